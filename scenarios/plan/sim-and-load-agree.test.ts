import { describe, expect, it } from 'vitest';
import { buildPlan, planForShard, type PopulationPlan } from '../../load/plan.js';
import { Population } from '../../simulator/workload/population.js';
import { parseScenario, type Scenario } from '../format/index.js';

/*
 * `npm run sim` and `npm run load` of one scenario and seed drive the same population: the
 * simulator's Population (what its workload builds from the run's seed) and the load driver's plan
 * (what buildPlan makes of the scenario, --seed put into it) agree user by user and group by group.
 */

const scenario = parseScenario(
  {
    name: 'same-population',
    seed: 5,
    duration_s: 10,
    population: { users: 300, devices_per_user: [0.6, 0.3, 0.1], contacts_per_user: 5 },
    traffic: { messages_per_s: 10, activity: { kind: 'pareto', alpha: 1.5, min: 0.34 } },
    groups: {
      per_user: 0.05,
      size: { kind: 'zipf', exponent: 1.1, min: 3, max: 40 },
      hot: [
        { size: 60, traffic_share: 0.4 },
        { size: 12, traffic_share: 0.2 },
      ],
    },
  },
  'same-population',
);

/** What the load driver runs with `npm run load -- <file> --seed N` (main.ts puts N into the scenario). */
function loadPlanOf(s: Scenario, seed: number): PopulationPlan {
  return buildPlan({ ...s, seed }, 'run1');
}

function expectSamePopulation(sim: Population, load: PopulationPlan): void {
  const userIndex = (userId: string) => Number(userId.slice('run1-u'.length));
  expect(load.users.map((u) => u.index)).toEqual(Array.from({ length: sim.users }, (_, u) => u));
  for (const user of load.users) {
    expect(user.deviceIds.length).toBe(sim.devicesOf(user.index));
    expect(user.activity).toBe(sim.activity[user.index]);
    const simContacts = Array.from({ length: sim.contactCount }, (_, k) => sim.contact(user.index, k));
    expect(user.contacts.map(userIndex)).toEqual([...new Set(simContacts)]);
  }
  expect(load.groups).toHaveLength(sim.groupCount);
  for (const group of load.groups) {
    const simMembers = Array.from(sim.groupMembers.subarray(sim.groupStart[group.index], sim.groupStart[group.index + 1]));
    expect([group.creatorIndex, ...group.memberIndexes]).toEqual(simMembers);
    const hot = group.index - sim.hotFirst;
    expect(group.trafficShare).toBe(hot >= 0 ? scenario.groups.hot[hot]!.traffic_share : undefined);
  }
}

describe('the simulator and the load driver plan one population', () => {
  it('the same scenario and seed give the same users, devices, contacts, groups and hot-group shares', () => {
    const sim = new Population(scenario, scenario.seed);
    const load = loadPlanOf(scenario, scenario.seed);
    expectSamePopulation(sim, load);
    // The scenario is rich enough for the comparison to mean something.
    expect(new Set(load.users.map((u) => u.deviceIds.length))).toEqual(new Set([1, 2, 3]));
    expect(sim.groupCount - sim.hotFirst).toBe(2);
    expect(load.groups.filter((g) => g.trafficShare !== undefined).map((g) => g.memberIndexes.length + 1)).toEqual([60, 12]);
  });

  it('--seed on either side means the same: a seed other than the scenario’s gives another population, the same in both', () => {
    const sim = new Population(scenario, 77);
    expectSamePopulation(sim, loadPlanOf(scenario, 77));
    expect(() => expectSamePopulation(sim, loadPlanOf(scenario, scenario.seed))).toThrow();
  });

  it('the load driver’s shards together drive exactly the simulated users', () => {
    const load = loadPlanOf(scenario, scenario.seed);
    const shards = [0, 1, 2, 3].map((index) => planForShard(load, { index, count: 4 }));
    const driven = shards.flatMap((s) => s.users.map((u) => u.index)).sort((a, b) => a - b);
    expect(driven).toEqual(Array.from({ length: new Population(scenario, scenario.seed).users }, (_, u) => u));
  });
});

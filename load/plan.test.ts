import { describe, expect, it } from 'vitest';
import { parseScenario } from '../scenarios/format/index.js';
import { buildPlan, planForShard } from './plan.js';
import { ownsUser, parseShard, ShardSpecError } from './shard.js';

const scenario = parseScenario(
  {
    name: 'plan-test',
    duration_s: 10,
    population: { users: 101, devices_per_user: [0.5, 0.5] },
    traffic: { messages_per_s: 10 },
    groups: { per_user: 0.1, size: { kind: 'zipf', exponent: 1.1, min: 3, max: 30 }, hot: [{ size: 40, traffic_share: 0.5 }] },
  },
  'plan-test',
);

describe('population plan', () => {
  it('is the same for the same seed and run id', () => {
    expect(buildPlan(scenario, 'r1')).toEqual(buildPlan(scenario, 'r1'));
    expect(buildPlan(scenario, 'r1').users[0]!.userId).toBe('r1-u0');
  });

  it('follows the scenario: users, 1–2 devices, groups with distinct members, the hot group last', () => {
    const plan = buildPlan(scenario, 'r1');
    expect(plan.users).toHaveLength(101);
    expect(new Set(plan.users.map((u) => u.deviceIds.length))).toEqual(new Set([1, 2]));
    expect(plan.groups).toHaveLength(10 + 1);
    expect(plan.groups.map((g) => g.trafficShare)).toEqual([...Array<undefined>(10), 0.5]);
    expect(plan.groups[10]!.memberIndexes.length + 1).toBe(40);
    for (const group of plan.groups) {
      const members = [group.creatorIndex, ...group.memberIndexes];
      expect(new Set(members).size).toBe(members.length);
    }
    for (const user of plan.users) {
      expect(user.contacts).not.toContain(user.userId);
      expect(new Set(user.contacts).size).toBe(user.contacts.length);
      expect(user.contacts.length).toBeGreaterThan(0);
      expect(user.contacts.length).toBeLessThanOrEqual(scenario.population.contacts_per_user);
    }
  });

  it('depends on the seed, not on the run id (which only names the users)', () => {
    const withoutIds = (runId: string) =>
      buildPlan(scenario, runId).users.map((u) => ({ ...u, userId: '', contacts: u.contacts.map((c) => c.replace(runId, '')) }));
    expect(withoutIds('r1')).toEqual(withoutIds('r2'));
    expect(buildPlan({ ...scenario, seed: scenario.seed + 1 }, 'r1').groups).not.toEqual(buildPlan(scenario, 'r1').groups);
  });

  it('splits users between shards without overlap or loss, and rate shares add up to 1', () => {
    const plan = buildPlan(scenario, 'r1');
    const shards = [0, 1, 2].map((index) => planForShard(plan, { index, count: 3 }));
    const all = shards.flatMap((s) => s.users.map((u) => u.index)).sort((a, b) => a - b);
    expect(all).toEqual(plan.users.map((u) => u.index));
    expect(shards.reduce((sum, s) => sum + s.rateShare, 0)).toBeCloseTo(1);
    expect(shards.flatMap((s) => s.groupsToCreate)).toHaveLength(plan.groups.length);
    expect(ownsUser({ index: 1, count: 3 }, 4)).toBe(true);
  });
});

describe('--shard', () => {
  it('parses i/n and rejects the rest', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(() => parseShard('4/4')).toThrow(ShardSpecError);
    expect(() => parseShard('1-4')).toThrow(/i\/n/);
  });
});

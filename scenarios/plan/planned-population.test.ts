import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../system/adapters/virtual/seeded-random.js';
import { defaultLimits } from '../../system/core/limits.js';
import { parseScenario, type Scenario } from '../format/index.js';
import { PlannedPopulation } from './planned-population.js';
import { pickContactRank, pickWeighted, sample } from './sample.js';

function scenarioOf(users: number, extra: Record<string, unknown> = {}): Scenario {
  return parseScenario(
    {
      name: 'planned',
      duration_s: 10,
      population: { users, devices_per_user: [0.7, 0.2, 0.1] },
      traffic: { messages_per_s: 10 },
      groups: { per_user: 0.05, size: { kind: 'zipf', exponent: 1.1, min: 3, max: 400 }, hot: [{ size: 250, traffic_share: 0.5 }] },
      ...extra,
    },
    'planned',
  );
}

describe('PlannedPopulation', () => {
  it('is a function of the scenario and the seed', () => {
    const scenario = scenarioOf(500);
    expect(new PlannedPopulation(scenario, 3)).toEqual(new PlannedPopulation(scenario, 3));
    expect(new PlannedPopulation(scenario, 3).groupMembers).not.toEqual(new PlannedPopulation(scenario, 4).groupMembers);
  });

  it('indexes devices, groups and memberships consistently; groups have distinct members within the limits', () => {
    const p = new PlannedPopulation(scenarioOf(2_000), 9);
    expect(p.firstDevice[p.users]).toBe(p.devices);
    for (let d = 0; d < p.devices; d++) expect(p.deviceNo(d)).toBe(d - p.firstDevice[p.userOfDevice[d]!]!);
    expect(new Set(Array.from({ length: p.users }, (_, u) => p.devicesOf(u)))).toEqual(new Set([1, 2, 3]));
    expect(p.hotFirst).toBe(100);
    expect(p.groupCount).toBe(101);
    expect(p.trafficShareOf(100)).toBe(0.5);
    expect(p.trafficShareOf(0)).toBeUndefined();
    for (let g = 0; g < p.groupCount; g++) {
      const members = [...p.membersOf(g)];
      expect(new Set(members).size).toBe(members.length);
      expect(members.length).toBeGreaterThanOrEqual(2);
      expect(members.length).toBeLessThanOrEqual(defaultLimits.groupMembersMax);
      for (const u of members) expect([...p.userGroups.subarray(p.userGroupStart[u], p.userGroupStart[u + 1])]).toContain(g);
    }
    for (let u = 0; u < p.users; u += 97) {
      expect(p.activity[u]).toBeGreaterThan(0);
      for (let k = 0; k < p.contactCount; k++) expect(p.contact(u, k)).not.toBe(u);
    }
  });

  it('stays compact: a few bytes per user, no object per user', () => {
    const p = new PlannedPopulation(scenarioOf(100_000), 1);
    // 4 bytes each: per user its first device, activity and first membership; per device its user
    // (1.4 devices a user here); per membership the member and the group (2.35 memberships a user).
    expect(p.devices / p.users).toBeCloseTo(1.4, 1);
    expect(p.groupMembers.length / p.users).toBeLessThan(2.5);
    expect(p.arrayBytes / p.users).toBeLessThan(4 * 3 + 4 * 1.45 + 4 * 2 * 2.5);
    expect(p.contactCount).toBe(8);
  });

  it('tiny populations: one user has no contacts and no groups; contacts never exceed the others', () => {
    expect(new PlannedPopulation(scenarioOf(1), 1)).toMatchObject({ contactCount: 0, groupCount: 0 });
    expect(new PlannedPopulation(scenarioOf(3), 1).contactCount).toBe(2);
  });
});

describe('samplers', () => {
  it('zipf stays in its range, favouring the low ranks; weighted picks never land on a zero weight', () => {
    const rng = new SeededRandom(1);
    const zipf = { kind: 'zipf', exponent: 1.1, min: 3, max: 20 } as const;
    const draws = Array.from({ length: 2_000 }, () => sample(zipf, rng));
    expect(Math.min(...draws)).toBe(3);
    expect(Math.max(...draws)).toBeLessThanOrEqual(20);
    expect(draws.filter((d) => d === 3).length).toBeGreaterThan(draws.filter((d) => d === 20).length);
    const picks = Array.from({ length: 1_000 }, () => pickWeighted([0, 1, 1, 3], rng));
    expect(new Set(picks)).toEqual(new Set([1, 3]));
  });

  it('contact ranks favour the most frequent partners', () => {
    const rng = new SeededRandom(2);
    const ranks = Array.from({ length: 4_000 }, () => pickContactRank(8, rng));
    expect(Math.max(...ranks)).toBe(7);
    expect(ranks.filter((k) => k === 0).length).toBeGreaterThan(3 * ranks.filter((k) => k === 7).length);
  });
});

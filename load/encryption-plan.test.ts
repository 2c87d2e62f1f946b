import { describe, expect, it } from 'vitest';
import { directConversationId } from '../sdk/index.js';
import { readScenario, type Scenario } from '../scenarios/format/index.js';
import { ENCRYPTED_GROUP_DEVICES_MAX, planEncryption } from './encryption-plan.js';
import { buildPlan, type PopulationPlan } from './plan.js';

const base = await readScenario(new URL('fixtures/ci-encrypted.yaml', import.meta.url).pathname);
const withShare = (share: number, seed = base.seed): Scenario => ({ ...base, seed, traffic: { ...base.traffic, encrypted_share: share } });

function membersOf(plan: PopulationPlan, index: number): number[] {
  const g = plan.groups[index]!;
  return [g.creatorIndex, ...g.memberIndexes];
}

describe('planEncryption', () => {
  it('draws round(share × users) users from the seed, the same every time, another set for another seed', () => {
    const scenario = withShare(0.5);
    const plan = buildPlan(scenario, 'r');
    const once = planEncryption(scenario, plan);
    expect(once.userIds.size).toBe(12);
    expect([...planEncryption(scenario, buildPlan(scenario, 'r')).userIds]).toEqual([...once.userIds]);
    const other = withShare(0.5, base.seed + 1);
    expect([...planEncryption(other, buildPlan(other, 'r')).userIds].sort()).not.toEqual([...once.userIds].sort());
    expect(planEncryption(withShare(0), plan).userIds.size).toBe(0);
  });

  it('leaves the rest of the plan as it was', () => {
    const scenario = withShare(0.5);
    expect(buildPlan(scenario, 'r')).toEqual(buildPlan(withShare(0), 'r'));
  });

  it('encrypts exactly the conversations whose users are all encrypted; mixed ones stay plaintext', () => {
    const scenario = withShare(0.5);
    const plan = buildPlan(scenario, 'r');
    const e = planEncryption(scenario, plan);
    const encrypted = (i: number) => e.userIds.has(plan.users[i]!.userId);
    const expectedDirect = new Set<string>();
    for (const user of plan.users) {
      for (const contact of user.contacts) {
        if (encrypted(user.index) && e.userIds.has(contact)) expectedDirect.add(directConversationId(user.userId, contact));
      }
    }
    expect(new Set(e.direct.map((d) => d.conversationId))).toEqual(expectedDirect);
    expect(expectedDirect.size).toBeGreaterThan(0);
    for (const group of plan.groups) expect(e.groupIndexes.has(group.index)).toBe(membersOf(plan, group.index).every(encrypted));
    expect(e.groupIndexes.size).toBeGreaterThan(0);
  });

  it(`keeps all-encrypted groups of more than ${ENCRYPTED_GROUP_DEVICES_MAX} devices plaintext, and counts them`, () => {
    const scenario: Scenario = {
      ...withShare(1),
      population: { ...base.population, users: 80 },
      groups: { ...base.groups, hot: [{ size: 60, traffic_share: 0.1 }] },
    };
    const plan = buildPlan(scenario, 'r');
    const e = planEncryption(scenario, plan);
    expect(e.userIds.size).toBe(plan.users.length);
    const hot = plan.groups.find((g) => g.trafficShare !== undefined)!;
    expect(e.groupIndexes.has(hot.index)).toBe(false);
    expect(e.groupsOverDeviceBound).toBe(1);
    expect(e.groupIndexes.size).toBe(plan.groups.length - 1);
  });

  it('with live.encrypted_groups, draws the members of the smallest ordinary groups first, within the same number of users', () => {
    const share = 0.2;
    const scenario: Scenario = { ...withShare(share), live: { ...base.live, encrypted_groups: 2 } };
    const plan = buildPlan(scenario, 'r');
    const e = planEncryption(scenario, plan);
    expect(e.userIds.size).toBe(Math.round(share * plan.users.length));
    const smallestFirst = plan.groups
      .filter((g) => g.trafficShare === undefined)
      .sort((a, b) => a.memberIndexes.length - b.memberIndexes.length || a.index - b.index);
    for (const group of smallestFirst.slice(0, 2)) {
      expect(e.groupIndexes.has(group.index)).toBe(true);
      for (const i of membersOf(plan, group.index)) expect(e.userIds.has(plan.users[i]!.userId)).toBe(true);
    }
    // Without the knob (or at 0), the draw is the plain seeded one.
    const plain = planEncryption(withShare(share), plan);
    expect(planEncryption({ ...scenario, live: { ...base.live, encrypted_groups: 0 } }, plan)).toEqual(plain);
    expect(plain.groupIndexes.size).toBeLessThan(e.groupIndexes.size);
  });

  it('in a sharded run, encrypts only conversations whose users are all on one shard', () => {
    const scenario = withShare(1);
    const plan = buildPlan(scenario, 'r');
    const e = planEncryption(scenario, plan, { index: 0, count: 2 });
    expect(e.direct.length).toBeGreaterThan(0);
    for (const d of e.direct) expect(d.userIndexes[0] % 2).toBe(d.userIndexes[1] % 2);
    for (const index of e.groupIndexes) expect(new Set(membersOf(plan, index).map((i) => i % 2)).size).toBe(1);
  });
});

import type { Scenario } from '../scenarios/format/index.js';
import { resolveLiveSection } from '../scenarios/format/live-section.js';
import { directConversationId } from '../sdk/index.js';
import { SeededRandom } from '../system/adapters/virtual/seeded-random.js';
import type { PlannedGroup, PopulationPlan } from './plan.js';
import type { ShardSpec } from './types.js';

/*
 * Which users and conversations of a run are end-to-end encrypted (`traffic.encrypted_share`).
 * A pure function of the scenario and the plan, so every shard of a run agrees without talking.
 *
 * The rule (load/README.md, "End-to-end encryption"):
 * - round(share × users) users are encrypted, drawn from the scenario's seed; all their devices run
 *   an MLS session. With live.encrypted_groups = n, the members of the n smallest ordinary groups
 *   that fit in that number are drawn first, so even a small share has MLS groups.
 * - A conversation is an MLS group when every one of its users is encrypted: a 1:1 between two
 *   encrypted users, a group whose members all are. Mixed conversations stay plaintext (a real app
 *   cannot encrypt to a user without MLS).
 * - An all-encrypted group with more than ENCRYPTED_GROUP_DEVICES_MAX devices stays plaintext
 *   (counted as `groups_over_device_bound`): founding is one commit adding every device, and beyond
 *   the SDK's 48 devices per commit it takes several, each slower than the last.
 * - Sharded runs: also every user on the same shard. Founding claims a KeyPackage for every device
 *   of every member, and shards start independently, so another shard's devices may not have any yet.
 */

/** Devices in one encrypted group at most: one founding commit (the SDK adds 48 per commit). */
export const ENCRYPTED_GROUP_DEVICES_MAX = 48;

/** Mixed into the scenario's seed so the choice of encrypted users leaves the plan's draws alone. */
const ENCRYPTION_SEED_SALT = 0x6d6c73;

export interface EncryptionPlan {
  share: number;
  /** Encrypted users of the whole run (all shards). */
  userIds: ReadonlySet<string>;
  /** 1:1 conversations that are MLS groups, with their users (lower plan index first). */
  direct: ReadonlyArray<{ conversationId: string; userIndexes: readonly [number, number] }>;
  /** Plan indexes of the groups that are MLS groups. */
  groupIndexes: ReadonlySet<number>;
  /** All-encrypted groups left plaintext because they have more devices than the bound. */
  groupsOverDeviceBound: number;
}

export function planEncryption(scenario: Scenario, plan: PopulationPlan, shard: ShardSpec = { index: 0, count: 1 }): EncryptionPlan {
  const share = scenario.traffic.encrypted_share;
  const count = Math.round(share * plan.users.length);
  // A seeded partial shuffle: exactly `count` users, a different set per seed.
  const random = new SeededRandom((scenario.seed ^ ENCRYPTION_SEED_SALT) >>> 0);
  // Shards own users by index modulo the shard count.
  const sameShard = (indexes: readonly number[]) => indexes.every((i) => i % shard.count === indexes[0]! % shard.count);
  const first = wholeGroupMembers(plan, resolveLiveSection(scenario.live).encrypted_groups, count, sameShard);
  const drawnFirst = new Set(first);
  const order = [...first, ...plan.users.map((u) => u.index).filter((i) => !drawnFirst.has(i))];
  for (let i = first.length; i < count; i++) {
    const j = i + Math.floor(random.nextFloat() * (order.length - i));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const encrypted = new Set(order.slice(0, count));
  const userIds = new Set([...encrypted].map((i) => plan.users[i]!.userId));
  const indexOf = new Map(plan.users.map((u) => [u.userId, u.index]));

  const direct = new Map<string, { conversationId: string; userIndexes: readonly [number, number] }>();
  for (const index of encrypted) {
    const user = plan.users[index]!;
    for (const contact of user.contacts) {
      const other = indexOf.get(contact)!;
      if (!encrypted.has(other)) continue;
      const pair = (index < other ? [index, other] : [other, index]) as [number, number];
      if (!sameShard(pair)) continue;
      const conversationId = directConversationId(user.userId, contact);
      direct.set(conversationId, { conversationId, userIndexes: pair });
    }
  }

  const groupIndexes = new Set<number>();
  let groupsOverDeviceBound = 0;
  for (const group of plan.groups) {
    const members = membersOf(group);
    if (!members.every((i) => encrypted.has(i)) || !sameShard(members)) continue;
    const devices = members.reduce((n, i) => n + plan.users[i]!.deviceIds.length, 0);
    if (devices > ENCRYPTED_GROUP_DEVICES_MAX) groupsOverDeviceBound++;
    else groupIndexes.add(group.index);
  }
  return { share, userIds, direct: [...direct.values()], groupIndexes, groupsOverDeviceBound };
}

/**
 * The members of the `wanted` smallest ordinary (not hot) groups that can be all-encrypted: within
 * the device bound, on one shard, and with their members fitting in `count` users in all.
 */
function wholeGroupMembers(
  plan: PopulationPlan,
  wanted: number,
  count: number,
  sameShard: (indexes: readonly number[]) => boolean,
): number[] {
  const chosen = new Set<number>();
  let groups = 0;
  const smallestFirst = plan.groups
    .filter((g) => g.trafficShare === undefined)
    .sort((a, b) => a.memberIndexes.length - b.memberIndexes.length || a.index - b.index);
  for (const group of smallestFirst) {
    if (groups >= wanted) break;
    const members = membersOf(group);
    const devices = members.reduce((n, i) => n + plan.users[i]!.deviceIds.length, 0);
    const fresh = members.filter((i) => !chosen.has(i));
    if (devices > ENCRYPTED_GROUP_DEVICES_MAX || !sameShard(members) || chosen.size + fresh.length > count) continue;
    for (const i of fresh) chosen.add(i);
    groups++;
  }
  return [...chosen];
}

function membersOf(group: PlannedGroup): number[] {
  return [group.creatorIndex, ...group.memberIndexes];
}

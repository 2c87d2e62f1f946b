import type { Scenario } from '../scenarios/format/index.js';
import { SeededRandom } from '../system/adapters/virtual/seeded-random.js';
import { pickWeighted, sample } from './sampling.js';
import { ownsUser } from './shard.js';
import type { ShardSpec } from './types.js';

/*
 * The population plan: who exists, how many devices each has, how active each is, whom they talk
 * to, and which groups exist with which members. It is a pure function of (scenario, run id), so
 * every shard of a run computes the same plan and takes its own users from it.
 */

export interface PlannedUser {
  index: number;
  userId: string;
  deviceIds: string[];
  /** Relative send activity (the scenario's `traffic.activity`, mean ≈ 1). */
  activity: number;
  /** 1:1 partners this user writes to. */
  contacts: string[];
}

export interface PlannedGroup {
  index: number;
  name: string;
  /** Creates the group and is its admin; the group belongs to the shard that owns this user. */
  creatorIndex: number;
  /** Members besides the creator. */
  memberIndexes: number[];
  /** Share of all group messages sent to this group (hot groups), else undefined. */
  trafficShare?: number;
}

export interface PopulationPlan {
  users: PlannedUser[];
  groups: PlannedGroup[];
}

/** 1:1 partners per user: enough for variety, few enough that conversations build real history. */
export const CONTACTS_PER_USER = 4;

const DEVICE_NAMES = ['phone', 'laptop', 'tablet', 'desktop', 'watch', 'web'];

function deviceName(i: number): string {
  return DEVICE_NAMES[i] ?? `device${i}`;
}

/** User ids carry the run id, so runs against a long-lived target never share users. */
export function userIdOf(runId: string, index: number): string {
  return `${runId}-u${index}`;
}

export function buildPlan(scenario: Scenario, runId: string): PopulationPlan {
  const random = new SeededRandom(scenario.seed);
  const count = scenario.population.users;
  const devicesCumulative: number[] = [];
  scenario.population.devices_per_user.reduce((sum, share, i) => (devicesCumulative[i] = sum + share), 0);

  const users: PlannedUser[] = [];
  for (let index = 0; index < count; index++) {
    const deviceCount = pickWeighted(devicesCumulative, random) + 1;
    users.push({
      index,
      userId: userIdOf(runId, index),
      deviceIds: Array.from({ length: deviceCount }, (_, d) => deviceName(d)),
      activity: sample(scenario.traffic.activity, random),
      contacts: [],
    });
  }
  for (const user of users) {
    const wanted = Math.min(CONTACTS_PER_USER, count - 1);
    const contacts = new Set<string>();
    // Neighbours first (a ring keeps every user someone's contact), then random picks.
    if (wanted > 0) contacts.add(users[(user.index + 1) % count]!.userId);
    while (contacts.size < wanted) {
      const other = users[Math.floor(random.nextFloat() * count)]!;
      if (other.index !== user.index) contacts.add(other.userId);
    }
    user.contacts = [...contacts];
  }

  const groups: PlannedGroup[] = [];
  const addGroup = (size: number, trafficShare?: number) => {
    const members = new Set<number>();
    const wanted = Math.max(2, Math.min(count, Math.round(size)));
    while (members.size < wanted) members.add(Math.floor(random.nextFloat() * count));
    const [creatorIndex, ...memberIndexes] = [...members];
    groups.push({
      index: groups.length,
      name: `${scenario.name} group ${groups.length}`,
      creatorIndex: creatorIndex!,
      memberIndexes,
      ...(trafficShare !== undefined ? { trafficShare } : {}),
    });
  };
  if (count >= 2) {
    for (const hot of scenario.groups.hot) addGroup(hot.size, hot.traffic_share);
    const regular = Math.round(scenario.groups.per_user * count);
    for (let g = 0; g < regular; g++) addGroup(sample(scenario.groups.size, random));
  }
  return { users, groups };
}

/** The part of the plan one shard drives. */
export interface ShardPlan {
  users: PlannedUser[];
  /** Groups whose creator this shard owns (it creates them at setup). */
  groupsToCreate: PlannedGroup[];
  /** This shard's share of the total send rate (its users' activity over everyone's). */
  rateShare: number;
}

export function planForShard(plan: PopulationPlan, shard: ShardSpec): ShardPlan {
  const users = plan.users.filter((u) => ownsUser(shard, u.index));
  const total = plan.users.reduce((sum, u) => sum + u.activity, 0);
  const mine = users.reduce((sum, u) => sum + u.activity, 0);
  return {
    users,
    groupsToCreate: plan.groups.filter((g) => ownsUser(shard, g.creatorIndex)),
    rateShare: total > 0 ? mine / total : 0,
  };
}

import type { Scenario } from '../scenarios/format/index.js';
import { PlannedPopulation } from '../scenarios/plan/index.js';
import { ownsUser } from './shard.js';
import type { ShardSpec } from './types.js';

/*
 * The population plan as the load driver drives it: who exists, how many devices each has, how
 * active each is, whom they talk to, and which groups exist with which members. It is the shared
 * plan of the scenario and seed (scenarios/plan: the same population `npm run sim` simulates) as
 * objects, with user ids that carry the run id. Every shard of a run computes the same plan and
 * takes its own users from it.
 */

export interface PlannedUser {
  index: number;
  userId: string;
  deviceIds: string[];
  /** Relative send activity (the scenario's `traffic.activity`, mean ≈ 1). */
  activity: number;
  /** 1:1 partners this user writes to, most frequent first (distinct; never the user). */
  contacts: string[];
}

export interface PlannedGroup {
  index: number;
  /** Creates the group and is its admin; the group belongs to the shard that owns this user. */
  creatorIndex: number;
  /** Members besides the creator. */
  memberIndexes: number[];
  /** Share of all group messages sent to this group (hot groups), else undefined. */
  trafficShare?: number;
}

export interface PopulationPlan {
  /** The compact shared plan the objects below are built from. */
  population: PlannedPopulation;
  users: PlannedUser[];
  /** Ordinary groups first, then the hot ones (the shared plan's order and indexes). */
  groups: PlannedGroup[];
}

const DEVICE_NAMES = ['phone', 'laptop', 'tablet', 'desktop', 'watch', 'web'];

function deviceName(i: number): string {
  return DEVICE_NAMES[i] ?? `device${i}`;
}

/** User ids carry the run id, so runs against a long-lived target never share users. */
export function userIdOf(runId: string, index: number): string {
  return `${runId}-u${index}`;
}

/** The plan of `scenario` with its seed (main.ts puts --seed into the scenario). */
export function buildPlan(scenario: Scenario, runId: string): PopulationPlan {
  const population = new PlannedPopulation(scenario, scenario.seed);
  const users: PlannedUser[] = [];
  for (let index = 0; index < population.users; index++) {
    const contacts = new Set<string>();
    for (let k = 0; k < population.contactCount; k++) contacts.add(userIdOf(runId, population.contact(index, k)));
    users.push({
      index,
      userId: userIdOf(runId, index),
      deviceIds: Array.from({ length: population.devicesOf(index) }, (_, d) => deviceName(d)),
      activity: population.activity[index]!,
      contacts: [...contacts],
    });
  }
  const groups: PlannedGroup[] = [];
  for (let index = 0; index < population.groupCount; index++) {
    const [creatorIndex, ...memberIndexes] = population.membersOf(index);
    const trafficShare = population.trafficShareOf(index);
    groups.push({ index, creatorIndex: creatorIndex!, memberIndexes, ...(trafficShare !== undefined ? { trafficShare } : {}) });
  }
  return { population, users, groups };
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

import { SeededRandom } from '../../system/adapters/virtual/seeded-random.js';
import { buildPlan, planForShard, type PopulationPlan, type ShardPlan } from '../plan.js';
import type { RunSettings } from './run-settings.js';

/** The run's population, the part of it this shard drives, and the shard's own draws. */
export interface ShardPopulation {
  /** Every user and group of the run (every shard builds the same). */
  readonly plan: PopulationPlan;
  /** This shard's users, the groups it creates and its share of the rate. */
  readonly shardPlan: ShardPlan;
  /** Seeded from the scenario's seed and the shard's index: shards draw differently, runs alike. */
  readonly random: SeededRandom;
}

/** The plan phase: the scenario's population (named by the run id) and this shard's part of it. */
export function planPopulation(settings: RunSettings): ShardPopulation {
  const { scenario, shard, runId } = settings;
  const shardSeed = (scenario.seed * 1_000_003 + shard.index) >>> 0;
  const random = new SeededRandom(shardSeed);
  const plan = buildPlan(scenario, runId);
  const shardPlan = planForShard(plan, shard);
  return { plan, shardPlan, random };
}

import type { CheckOptions } from '../../checker/options.js';
import { resolveLimits, type Limits } from '../../system/core/limits.js';
import { silentLogger } from '../../system/ports/logger.js';
import type { MessageStore } from '../../system/ports/message-store.js';
import { Scheduler } from '../../system/adapters/virtual/scheduler.js';
import { SimWorld } from '../../system/worlds/simulated/sim-world.js';
import { StreamingCheck } from '../check/streaming-check.js';
import { HistoryTap } from '../check/history-tap.js';
import { RunCollector } from '../report/collector.js';
import { Workload } from '../workload/workload.js';
import { planFaults } from '../faults/fault-plan.js';
import { presenceGraceMsFor } from './presence-grace.js';
import type { RunPlan } from './run-plan.js';

/** The built run every later phase works on: the plan, the clock, the world, its load and what records them. */
export interface SimRun {
  readonly plan: RunPlan;
  readonly limits: Limits;
  readonly time: Scheduler;
  /** Simulated time per point of the time series. */
  readonly intervalMs: number;
  readonly collector: RunCollector;
  /** Whether the whole history is kept and checked at the end; else the streaming checker checks it as it goes. */
  readonly fullCheck: boolean;
  /** What the checker is told (the presence TTL, and the grace widened by the run's latency faults: presence-grace.ts). */
  readonly checkOptions: CheckOptions;
  readonly streaming: StreamingCheck | undefined;
  readonly tap: HistoryTap;
  readonly world: SimWorld;
  readonly workload: Workload;
}

/** Test seams of the world (SimOptions has them). */
export interface WorldSeams {
  wrapBackendMessages?: (store: MessageStore) => MessageStore;
  plant?: (world: SimWorld, workload: Workload) => void;
}

/**
 * The build phase: the simulated cluster and population, the history tap and checker, and the
 * set-up (devices linked, groups created), whose figures are then zeroed.
 */
export async function buildWorld(plan: RunPlan, seams: WorldSeams): Promise<SimRun> {
  const { scenario, seed, cellScale } = plan;
  const sim = scenario.sim;
  const limits = resolveLimits();
  const time = new Scheduler(sim.tick_ms);
  const intervalMs = seriesIntervalMs(scenario.duration_s * 1000);
  const collector = new RunCollector(intervalMs, scenario.warmup_s * 1000);
  const fullCheck = sim.checker === 'full' || (sim.checker === 'auto' && scenario.population.users <= sim.full_check_users_max);
  const checkOptions: CheckOptions = {
    presenceTtlMs: limits.presenceTtlMs,
    presenceGraceMs: presenceGraceMsFor(planFaults(scenario, plan.runSeed)),
  };
  const streaming = fullCheck ? undefined : new StreamingCheck(checkOptions);
  const tap = new HistoryTap(fullCheck, streaming);

  const world = new SimWorld({
    scenario,
    seed,
    time,
    metrics: collector,
    log: silentLogger,
    ...(sim.cell_background && cellScale > 1 ? { background: { copies: cellScale - 1, windowMs: sim.cell_background_window_ms } } : {}),
    ...(seams.wrapBackendMessages ? { wrapBackendMessages: seams.wrapBackendMessages } : {}),
  });
  const workload = new Workload({
    scenario,
    seed,
    time,
    world,
    collector,
    record: (e) => tap.record(e),
    recordLinks: true,
    heartbeatTimeoutMs: limits.heartbeatTimeoutMs,
  });
  await workload.setUp();
  seams.plant?.(world, workload);
  // The set-up (linking devices, creating groups) is not part of the measured run.
  for (const tier of Object.values(world.tiers)) tier.resetStats();
  for (const g of world.gateways) g.resetStats();
  collector.resetServerCounts();
  return { plan, limits, time, intervalMs, collector, fullCheck, checkOptions, streaming, tap, world, workload };
}

/** About 120 points over the load, in whole seconds between 1 s and 60 s. */
function seriesIntervalMs(durationMs: number): number {
  return Math.min(60_000, Math.max(1_000, Math.round(durationMs / 120 / 1000) * 1000));
}

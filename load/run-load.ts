/**
 * The live load driver's programmatic API: `runLoad(scenario, options)` runs one scenario (or one
 * shard of it) against a target speaking the chat protocol — or against the embedded reference
 * system started in-process — checks the recorded history with the shared checker, gates the SLOs
 * and returns the run summary. `npm run load` (main.ts) and chaos drills are built on it.
 *
 * Phases: setup (every device connects once, so it exists; groups are created), traffic
 * (open-model sends, churn, reads, media for `duration_s`), settle (churn stops, every device
 * reconnects, wait until everything is delivered, at most `liveness_bound_s`), check. Each step
 * is its own function in load/run/, and runLoad reads as their sequence.
 */
import { exitCodeOf } from '../checker/run-summary.js';
import type { Scenario } from '../scenarios/format/index.js';
import { buildRun } from './run/build-run.js';
import { buildRunSummary, type DrivenPhases } from './run/build-summary.js';
import { checkRunHistory } from './run/check-run.js';
import { connectFleet } from './run/connect-fleet.js';
import { judgeObjectives } from './run/judge-objectives.js';
import { reachTarget, releaseTarget } from './run/reach-target.js';
import { resolveRunSettings, type RunLoadOptions } from './run/run-settings.js';
import { setUpConversations } from './run/set-up-conversations.js';
import { settleRun } from './run/settle-phase.js';
import { tearDown } from './run/tear-down.js';
import { runTrafficPhase } from './run/traffic-phase.js';
import type { LoadRunResult } from './types.js';

export type * from './types.js';
export type { RunLoadOptions } from './run/run-settings.js';
export { LoadErrorCodes } from './error-codes.js';

export async function runLoad(scenario: Scenario, options: RunLoadOptions = {}): Promise<LoadRunResult> {
  const wallStartMs = performance.now();
  const settings = resolveRunSettings(scenario, options);
  const target = await reachTarget(settings);
  // A run that cannot be built still lets go of the target: an embedded system it started is stopped.
  const run = await buildRun(settings, target).catch(async (error: unknown) => {
    await releaseTarget(target);
    throw error;
  });

  // The target is driven (setup, traffic, settle); whatever happens, the run is torn down after.
  // SDK timers are unref'd; this keeps the process alive while a connect is only waiting to retry.
  const keepAlive = setInterval(() => undefined, 1000);
  let live: DrivenPhases;
  let pushesRecorded: number | undefined;
  try {
    const connect = await connectFleet(run);
    const groups = await setUpConversations(run);
    const traffic = await runTrafficPhase(run);
    const settle = await settleRun(run);
    live = { connect, groups, traffic, settle };
  } finally {
    clearInterval(keepAlive);
    pushesRecorded = await tearDown(run);
  }

  // Verdicts: the invariants over the history, then the objectives; then the summary.
  run.phase.enter('check');
  const check = checkRunHistory(run);
  const judged = await judgeObjectives(run, check, {
    connectAttempts: live.connect.attempts + live.settle.reconnectAttempts,
    trafficStartMs: live.traffic.startMs,
  });
  const summary = buildRunSummary(run, { ...live, pushesRecorded, check, judged, wallS: (performance.now() - wallStartMs) / 1000 });
  run.measurements.destroy();
  run.encryption?.destroy();
  run.phase.enter('done');
  return {
    summary,
    history: check.events,
    timeSeries: run.sampler.samples,
    exitCode: exitCodeOf(summary),
    trafficStartedAtMs: live.traffic.startMs,
    trafficEndedAtMs: live.traffic.endMs,
    settledAtMs: live.settle.settledAtMs,
    targets: target.targets,
  };
}

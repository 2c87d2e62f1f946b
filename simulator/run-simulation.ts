import { exitCodeOf, type RunSummary } from '../checker/run-summary.js';
import type { Violation } from '../checker/violation.js';
import { DEFAULT_PRESENCE_GRACE_MS } from '../checker/options.js';
import type { Scenario } from '../scenarios/format/index.js';
import type { MessageStore } from '../system/ports/message-store.js';
import type { CapacityComparison } from './capacity/index.js';
import { judgeSlos } from './report/judge-slos.js';
import type { FaultRecord } from './faults/fault-injector.js';
import type { SeriesPoint } from './report/collector.js';
import type { Workload } from './workload/workload.js';
import type { CellSlice } from './cells/cell-slice.js';
import type { SimWorld } from '../system/worlds/simulated/sim-world.js';
import { planRun, reproduceCommandOf } from './run/run-plan.js';
import { buildWorld } from './run/build-world.js';
import { startLoadAndFaults } from './run/start-load.js';
import { startIntervalSampler } from './run/interval-sampler.js';
import { RunProgress, type SimProgress } from './run/run-progress.js';
import { runSafetyPhase } from './run/safety-phase.js';
import { runLivenessPhase } from './run/liveness-phase.js';
import { checkRunHistory } from './run/check-run.js';
import { capacityOfRun } from './run/capacity-of-run.js';
import { buildSimSummary } from './run/build-summary.js';

export type { SimProgress } from './run/run-progress.js';

export interface SimOptions {
  scenario: Scenario;
  /** Overrides the scenario's seed. */
  seed?: number;
  /** How the run is reproduced, for violation reports (the CLI passes its own command line). */
  reproduceCommand?: (seed: number) => string;
  /** Called about once per wall-clock second with progress. */
  onProgress?: (p: SimProgress) => void;
  /** Test seam: wraps the shared message store (planted bugs). */
  wrapBackendMessages?: (store: MessageStore) => MessageStore;
  /**
   * Runs cell `index` of `count` of the population (simulator/cells): that cell's users with their
   * own seed, the scenario's faults from the run's seed, the other cells as background. Replaces
   * the scenario's sim.cell_users.
   */
  cell?: CellSlice;
  /**
   * Aborting ends the safety phase (load and faults) at the current simulated instant; the run
   * then goes on as one that ended there: heal, liveness, check, summary (the caller marks it interrupted).
   */
  signal?: AbortSignal;
  /** Said about the run before it starts (faults a shortened run leaves out): the first of the summary's notes. */
  notes?: readonly string[];
  /** Test seam: changes the world before the load starts (planted bugs in adapters). */
  plant?: (world: SimWorld, workload: Workload) => void;
}

export interface SimResult {
  summary: RunSummary;
  violations: Violation[];
  series: SeriesPoint[];
  faults: FaultRecord[];
  exitCode: number;
  traceHash: string;
  notes: string[];
  reproduce: string;
  /** The capacity model for the scenario's full population, with what this run measured. */
  capacity: CapacityComparison | undefined;
  capacityText: string | undefined;
}

/**
 * Runs one scenario in the simulator: builds the simulated cluster and population, runs the
 * safety phase (load and faults) and the liveness phase (heal, stop load, everything queued must
 * reach the online devices within liveness_bound_s), checks the history with the one checker, and
 * returns the run summary (the shared keys of docs/summaries.md, kind "sim"). Each phase is its
 * own function in simulator/run/.
 */
export async function runSimulation(options: SimOptions): Promise<SimResult> {
  const wallStartMs = performance.now();
  const plan = planRun(options);
  const { scenario } = plan;
  const run = await buildWorld(plan, options);
  const load = startLoadAndFaults(run);
  const sampler = startIntervalSampler(run, load);
  const progress = new RunProgress(run.time, load.startMs, scenario.duration_s + scenario.liveness_bound_s, options.onProgress);

  // The clock runs: load and faults, then heal and let the online devices catch up.
  const loadEndMs = await runSafetyPhase(run, load.startMs, progress, options.signal);
  const liveness = await runLivenessPhase(run, load.injector, progress, loadEndMs);
  sampler.stop();
  const simulatedMs = run.time.nowMs() - load.startMs;
  const heapPeakBytes = progress.heapPeakBytes();

  // Verdicts: the invariants over the history, then the SLOs.
  const check = checkRunHistory(run);
  const { collector } = run;
  const latency = collector.latency();
  const errorRate = collector.sent > 0 ? collector.rejected / collector.sent : 0;
  const slo = judgeSlos(scenario, { latency, violations: check.totalViolations, errorRate, converged: liveness.converged });

  // The report.
  const wallS = (performance.now() - wallStartMs) / 1000;
  const reproduce = reproduceCommandOf(plan, options.reproduceCommand);
  const capacity = capacityOfRun(run, reproduce);
  const graceMs = run.checkOptions.presenceGraceMs ?? DEFAULT_PRESENCE_GRACE_MS;
  // Said whenever the run's latency faults widened it (presence-grace.ts), so a reader knows the slack the presence check allowed.
  const graceNote =
    graceMs > DEFAULT_PRESENCE_GRACE_MS ? [`presence checked with a ${graceMs} ms grace (2000 + the run's peak injected latency)`] : [];
  const notes = [...(options.notes ?? []), ...liveness.notes, ...check.result.notes, ...graceNote, ...capacity.notes];
  const summary = buildSimSummary(run, {
    check,
    latency,
    slo,
    faults: load.injector.records,
    liveness,
    capacity,
    simulatedMs,
    wall: { wallS, setupWallS: (progress.loadWallStartMs - wallStartMs) / 1000, setupEvents: progress.loadEventsStart, heapPeakBytes },
    reproduce,
    notes,
  });
  collector.destroy();
  return {
    summary,
    violations: check.result.violations,
    series: collector.series,
    faults: load.injector.records,
    exitCode: exitCodeOf(summary),
    traceHash: run.tap.trace.digest(),
    notes,
    reproduce,
    capacity: capacity.capacity,
    capacityText: capacity.capacityText,
  };
}

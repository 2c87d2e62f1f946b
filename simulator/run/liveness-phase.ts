import type { FaultInjector } from '../faults/fault-injector.js';
import type { SimRun } from './build-world.js';
import type { RunProgress } from './run-progress.js';

/** How the liveness phase ended. */
export interface LivenessOutcome {
  converged: boolean;
  /** Simulated seconds from the end of the load until the devices caught up (or the bound ran out). */
  convergedAfterS: number;
  /** Said in the summary's notes (nothing when the devices caught up). */
  notes: string[];
}

/** Simulated time between two looks at whether the online devices have caught up. */
const CATCH_UP_CHECK_EVERY_MS = 2_000;

/**
 * The liveness phase: every fault healed (none starts any more), crashed gateways restarted, no
 * new sends; the online devices must catch up within liveness_bound_s of `loadEndMs`. Ends with the
 * `quiesce` event, from which durability owes each online device every acknowledged message.
 */
export async function runLivenessPhase(
  run: SimRun,
  injector: FaultInjector,
  progress: RunProgress,
  loadEndMs: number,
): Promise<LivenessOutcome> {
  const { plan, time, world, workload, tap } = run;
  const { scenario } = plan;
  progress.phase = 'liveness';
  injector.close();
  injector.healAll();
  for (const g of world.gateways) g.restart();
  workload.stopLoad(scenario.sim.liveness.reconnect_all);
  const boundMs = loadEndMs + scenario.liveness_bound_s * 1000;
  let converged = false;
  let waitingOn: string | undefined;
  while (time.nowMs() < boundMs) {
    await time.run(Math.min(boundMs, time.nowMs() + CATCH_UP_CHECK_EVERY_MS), progress.onInstant);
    const state = await workload.caughtUp();
    waitingOn = state.waitingOn;
    if (state.done) {
      converged = true;
      break;
    }
  }
  const convergedAfterS = (time.nowMs() - loadEndMs) / 1000;
  const notes = converged ? [] : [`liveness: not caught up ${scenario.liveness_bound_s} s after healing (${waitingOn ?? '?'})`];
  tap.record({ type: 'quiesce', atMs: time.nowMs(), devices: workload.onlineDeviceList() });
  return { converged, convergedAfterS, notes };
}

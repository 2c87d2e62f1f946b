import type { SimRun } from './build-world.js';
import type { RunProgress } from './run-progress.js';

/**
 * The safety phase: the clock runs `duration_s` of load and faults from `startMs`, or until
 * `signal` aborts (the run then goes on as one that ended there). Returns the simulated instant the load ended at.
 */
export async function runSafetyPhase(
  run: SimRun,
  startMs: number,
  progress: RunProgress,
  signal: AbortSignal | undefined,
): Promise<number> {
  const { time } = run;
  const endSafetyPhase = () => time.stop();
  signal?.addEventListener('abort', endSafetyPhase, { once: true });
  if (!signal?.aborted) await time.run(startMs + run.plan.scenario.duration_s * 1000, progress.onInstant);
  signal?.removeEventListener('abort', endSafetyPhase);
  return time.nowMs();
}

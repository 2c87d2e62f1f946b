import { checkHistory, type CheckResult } from '../../checker/index.js';
import type { History } from '../../checker/history.js';
import type { LoadRun } from './build-run.js';

/** The checker's verdict on what this process's clients recorded. */
export interface RunCheck {
  /** Every recorded event, in the order recorded. */
  events: History;
  result: CheckResult;
  /** Violations the checker found, every invariant together. */
  checkerViolations: number;
  /** Those and the messages an encrypted device could not decrypt: what the objectives judge. */
  violations: number;
}

/** The check phase: the recorded history through the one checker. */
export function checkRunHistory(run: LoadRun): RunCheck {
  const events: History = run.recorder.events;
  run.settings.log(`checking ${events.length} history events`);
  const result = checkHistory(events);
  const checkerViolations = Object.values(result.counts).reduce((a, b) => a + b, 0);
  // A message an encrypted device could not decrypt is as lost to its user as an undelivered one.
  const violations = checkerViolations + (run.encryption?.failureCount ?? 0);
  return { events, result, checkerViolations, violations };
}

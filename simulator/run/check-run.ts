import { checkHistory, type CheckResult } from '../../checker/index.js';
import type { SimRun } from './build-world.js';

/** The checker's verdict on the run's history, with the violations of every invariant counted together. */
export interface RunCheck {
  result: CheckResult;
  totalViolations: number;
}

/** The check phase: the whole history through the one checker, or what the streaming checker found as it went. */
export function checkRunHistory(run: SimRun): RunCheck {
  const result: CheckResult = run.fullCheck ? checkHistory(run.tap.events!, run.checkOptions) : run.streaming!.finish();
  const totalViolations = Object.values(result.counts).reduce((a, b) => a + b, 0);
  return { result, totalViolations };
}

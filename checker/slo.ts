import type { Percentiles } from './latency.js';

/** A service-level objective: a named measurement that must stay at or under its target. */
export interface Objective {
  name: string;
  /** Human-readable target, e.g. "< 200 ms". */
  target: string;
  actual: number | null;
  passed: boolean;
}

export interface SloInput {
  latency: { ack: Percentiles; deliver: Percentiles };
  violations: number;
  /** Requests answered with an error, over requests made (0..1), when known. */
  errorRate?: number;
}

export interface SloTargets {
  /** Send→deliver p99 for online recipients must be below this (the project's objective: 200 ms). */
  deliverP99Ms: number;
  /** Invariant violations allowed (the bar is zero). */
  violationsMax: number;
  /** Highest acceptable error rate, when measured. */
  errorRateMax?: number;
}

export const DEFAULT_SLO_TARGETS: Readonly<SloTargets> = Object.freeze({ deliverP99Ms: 200, violationsMax: 0 });

/** Evaluates the objectives of a run from its measurements. Pure. */
export function evaluateSlos(input: SloInput, targets: SloTargets = DEFAULT_SLO_TARGETS): { passed: boolean; objectives: Objective[] } {
  const objectives: Objective[] = [];
  const deliverP99 = input.latency.deliver.count > 0 ? input.latency.deliver.p99 : null;
  objectives.push({
    name: 'deliver.p99',
    target: `< ${targets.deliverP99Ms} ms`,
    actual: deliverP99,
    // No live deliveries means nothing was measured: that is not a pass.
    passed: deliverP99 !== null && deliverP99 < targets.deliverP99Ms,
  });
  objectives.push({
    name: 'invariant.violations',
    target: `<= ${targets.violationsMax}`,
    actual: input.violations,
    passed: input.violations <= targets.violationsMax,
  });
  if (targets.errorRateMax !== undefined && input.errorRate !== undefined) {
    objectives.push({
      name: 'error.rate',
      target: `<= ${targets.errorRateMax}`,
      actual: input.errorRate,
      passed: input.errorRate <= targets.errorRateMax,
    });
  }
  return { passed: objectives.every((o) => o.passed), objectives };
}

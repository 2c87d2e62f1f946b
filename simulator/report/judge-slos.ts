import type { Percentiles } from '../../checker/latency.js';
import { evaluateSlos, type Objective } from '../../checker/slo.js';
import type { Scenario } from '../../scenarios/format/index.js';

export interface SimMeasurements {
  latency: { ack: Percentiles; deliver: Percentiles };
  violations: number;
  /** Requests answered with an error over messages sent (0..1). */
  errorRate: number;
  /** Whether the liveness phase caught up within the scenario's bound. */
  converged: boolean;
}

/**
 * A simulated run's objectives from the scenario's slo block: deliver p99, violations, error
 * rate, ack p99 when given, and liveness (everything owed delivered within the bound). One place
 * for a single run and for a merge of cells.
 */
export function judgeSlos(scenario: Scenario, m: SimMeasurements): { passed: boolean; objectives: Objective[] } {
  const slo = evaluateSlos(
    { latency: m.latency, violations: m.violations, errorRate: m.errorRate },
    {
      deliverP99Ms: scenario.slo.deliver_p99_ms,
      violationsMax: scenario.slo.violations_max,
      ...(scenario.slo.error_rate_max !== undefined ? { errorRateMax: scenario.slo.error_rate_max } : {}),
    },
  );
  if (scenario.slo.ack_p99_ms !== undefined) {
    const actual = m.latency.ack.count > 0 ? m.latency.ack.p99 : null;
    const passed = actual !== null && actual < scenario.slo.ack_p99_ms;
    slo.objectives.push({ name: 'ack.p99', target: `< ${scenario.slo.ack_p99_ms} ms`, actual, passed });
    slo.passed = slo.passed && passed;
  }
  if (!m.converged) {
    slo.objectives.push({ name: 'liveness.converged_s', target: `<= ${scenario.liveness_bound_s}`, actual: null, passed: false });
    slo.passed = false;
  }
  return slo;
}

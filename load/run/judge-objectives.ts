import type { Objective } from '../../checker/slo.js';
import { nowEpochMs } from '../measurements.js';
import { prometheusObjectives, type PrometheusEvaluation } from '../prometheus-slo.js';
import { evaluateObjectives } from '../slo-gate.js';
import type { LoadSummaryInput } from '../summary.js';
import type { LoadRun } from './build-run.js';
import type { RunCheck } from './check-run.js';

/** The run's objectives judged, with the figures they were judged on. */
export interface JudgedObjectives {
  latency: LoadSummaryInput['latency'];
  /** Errors over sends and connection attempts. */
  errorRate: number;
  /** The driver's objectives, then those PromQL evaluated (`<name> (prometheus)`). */
  objectives: Objective[];
  /** What was asked of Prometheus (`--prometheus`). */
  prometheus: (PrometheusEvaluation & { url: string }) | undefined;
}

/**
 * The SLO phase: the objectives judged on the driver's measurements and the checker's violations
 * and, with `--prometheus`, again on the system's own metrics over the window since the traffic started.
 */
export async function judgeObjectives(
  run: LoadRun,
  check: RunCheck,
  measured: { connectAttempts: number; trafficStartMs: number },
): Promise<JudgedObjectives> {
  const { settings, measurements } = run;
  const { options, sloSpecs } = settings;
  const errorRate = measurements.errorCount / Math.max(1, measurements.sent + measured.connectAttempts);
  const latency = {
    ack: measurements.ack.figures(),
    deliver: measurements.deliver.figures(),
    receipt: measurements.receipt.figures(),
    upload: measurements.upload.figures(),
  };
  const objectives = evaluateObjectives(sloSpecs, { latency, violations: check.violations, errorRate });
  let prometheus: (PrometheusEvaluation & { url: string }) | undefined;
  if (options.prometheusUrl) {
    const windowS = (nowEpochMs() - measured.trafficStartMs) / 1000;
    prometheus = {
      url: options.prometheusUrl,
      ...(await prometheusObjectives(options.prometheusUrl, sloSpecs, windowS, options.prometheusSelector)),
    };
    objectives.push(...prometheus.objectives);
  }
  return { latency, errorRate, objectives, prometheus };
}

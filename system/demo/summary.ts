import type { CheckResult, Percentiles } from '../../checker/index.js';
import { latencyFigures, summarizeViolations, type RunSummary } from '../../checker/run-summary.js';
import { evaluateSlos } from '../../checker/slo.js';
import type { DemoResult, DemoWorkloadOptions } from './workload.js';

export interface DemoSummaryInput {
  options: Omit<DemoWorkloadOptions, 'log'>;
  result: DemoResult;
  check: CheckResult;
  latency: { ack: Percentiles; deliver: Percentiles };
  pushes: number;
  wallSeconds: number;
}

/** The demo's run summary: the shared keys of docs/summaries.md plus what the demo exercised. */
export function buildDemoSummary(input: DemoSummaryInput): RunSummary {
  const { result, check, latency } = input;
  const counts = { sent: 0, acked: 0, delivered: 0 };
  for (const event of result.history.events) {
    if (event.type === 'send' && event.attempt === 1) counts.sent++;
    else if (event.type === 'ack') counts.acked++;
    else if (event.type === 'deliver' && event.kind === 'message') counts.delivered++;
  }
  // The encrypted share must decrypt every message it was sent and refuse none: a miss counts as a violation.
  const e2eeFailed = result.e2ee && !result.e2ee.passed ? 1 : 0;
  const violations = Object.values(check.counts).reduce((a, b) => a + b, 0) + e2eeFailed;
  return {
    kind: 'demo',
    scenario: 'builtin-demo',
    seed: input.options.seed,
    users: result.users,
    devices: result.devices,
    messages: counts,
    latency_ms: { ack: latencyFigures(latency.ack), deliver: latencyFigures(latency.deliver) },
    invariants: summarizeViolations(check.checked, check.violations, violations),
    slo: evaluateSlos({ latency, violations }),
    wall_s: Math.round(input.wallSeconds * 10) / 10,
    groups: result.groups,
    media: result.media,
    churn: result.churn,
    pushes: input.pushes,
    quiesced: result.quiesced,
    send_failures: result.sendFailures,
    history_events: result.history.events.length,
    checker_notes: check.notes,
    ...(result.e2ee ? { e2ee: result.e2ee } : {}),
  };
}

import type { CheckResult } from '../checker/index.js';
import type { HistoryEvent } from '../checker/history.js';
import { latencyFigures, summarizeViolations, type RunSummary } from '../checker/run-summary.js';
import type { Objective } from '../checker/slo.js';
import type { Scenario, ScheduledFault } from '../scenarios/format/index.js';
import { formatEvent } from '../checker/format.js';
import type { LoadMeasurements } from './measurements.js';
import type { PrometheusEvaluation } from './prometheus-slo.js';
import { shardLabel } from './shard.js';
import type { LatencyFiguresMs, ShardSpec } from './types.js';

export interface LoadSummaryInput {
  scenario: Scenario;
  runId: string;
  shard: ShardSpec;
  targets: string[];
  durationS: number;
  users: number;
  devices: number;
  measurements: LoadMeasurements;
  latency: { ack: LatencyFiguresMs; deliver: LatencyFiguresMs; receipt: LatencyFiguresMs; upload: LatencyFiguresMs };
  check: CheckResult;
  violations: number;
  objectives: Objective[];
  errorRate: number;
  scheduled: number;
  trafficS: number;
  groups: { planned: number; created: number; failures: Record<string, number> };
  churn: { disconnects: number; reconnects: number; reconnect_failures: number };
  connectFailures: Record<string, number>;
  quiescence: { quiesced: boolean; behind: number; waitedMs: number; examples: string[] };
  historyEvents: number;
  faultsSkipped: ScheduledFault[];
  prometheus?: { url: string; queries: PrometheusEvaluation['queries'] };
  plantedDrop?: HistoryEvent;
  wallS: number;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** The load driver's run summary: DESIGN's shared keys (kind "load") plus the driver's own (docs/summaries.md). */
export function buildLoadSummary(input: LoadSummaryInput): RunSummary {
  const m = input.measurements;
  const delivered = m.deliveredLive + m.deliveredSync;
  const trafficS = Math.max(1e-3, input.trafficS);
  return {
    kind: 'load',
    scenario: input.scenario.name,
    seed: input.scenario.seed,
    users: input.users,
    devices: input.devices,
    messages: { sent: m.sent, acked: m.acked, delivered },
    latency_ms: { ack: latencyFigures(input.latency.ack), deliver: latencyFigures(input.latency.deliver) },
    invariants: summarizeViolations(input.check.checked, input.check.violations, input.violations),
    slo: { passed: input.objectives.every((o) => o.passed), objectives: input.objectives },
    wall_s: round1(input.wallS),
    run_id: input.runId,
    shard: shardLabel(input.shard),
    targets: input.targets,
    duration_s: input.durationS,
    warmup_s: input.scenario.warmup_s,
    rate_per_s: {
      offered: round1(input.scheduled / trafficS),
      sent: round1(m.sent / trafficS),
      delivered: round1(delivered / trafficS),
    },
    deliveries: { live: m.deliveredLive, sync: m.deliveredSync },
    latency_counts: { ack: input.latency.ack.count, deliver: input.latency.deliver.count },
    receipt_latency_ms: latencyFigures(input.latency.receipt),
    upload_latency_ms: latencyFigures(input.latency.upload),
    errors: Object.fromEntries(m.errors),
    error_rate: Math.round(input.errorRate * 1e6) / 1e6,
    abandoned_sends: m.abandoned,
    connect_failures: input.connectFailures,
    groups: input.groups,
    churn: input.churn,
    quiesced: input.quiescence.quiesced,
    settle_s: round1(input.quiescence.waitedMs / 1000),
    ...(input.quiescence.quiesced ? {} : { behind_at_settle: { devices: input.quiescence.behind, examples: input.quiescence.examples } }),
    history_events: input.historyEvents,
    checker_notes: input.check.notes,
    ...(input.scenario.traffic.encrypted_share > 0 ? { encrypted_share_not_applied: input.scenario.traffic.encrypted_share } : {}),
    ...(input.faultsSkipped.length > 0 ? { faults_skipped: input.faultsSkipped } : {}),
    ...(input.prometheus ? { prometheus: input.prometheus } : {}),
    ...(input.plantedDrop ? { planted_fault: `test-only: the application never saw ${formatEvent(input.plantedDrop)}` } : {}),
    latency_source: 'driver HDR histograms from the scheduled send time (open model), messages scheduled after warmup_s',
  };
}

import type { CheckResult } from '../checker/index.js';
import type { HistoryEvent } from '../checker/history.js';
import { latencyFigures, summarizeViolations, WITNESSES_IN_SUMMARY_MAX, type RunSummary } from '../checker/run-summary.js';
import type { Objective } from '../checker/slo.js';
import type { Scenario, ScheduledFault } from '../scenarios/format/index.js';
import { formatEvent } from '../checker/format.js';
import { describeDecryptFailure, type DecryptFailure, type EncryptionReport } from './encryption.js';
import type { LoadMeasurements } from './measurements.js';
import type { MediaDownloadTally } from './media-downloads.js';
import type { MembershipChangeTally } from './membership-changes.js';
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
  /** The checker's violations (decrypt failures are added from `encryption`). */
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
  /** Media uploaded by senders and fetched by recipients (live.media_downloads). */
  media: { uploaded: number } & MediaDownloadTally;
  /** Members added and removed during the traffic (live.membership_changes). */
  membershipChanges?: MembershipChangeTally;
  /** Pushes the embedded target's push sender recorded (embedded runs only: other targets do not say). */
  pushesRecorded?: number;
  faultsSkipped: ScheduledFault[];
  prometheus?: { url: string; queries: PrometheusEvaluation['queries'] };
  plantedDrop?: HistoryEvent;
  /** The encrypted share, when the scenario has one. */
  encryption?: { report: EncryptionReport; failures: readonly DecryptFailure[] };
  wallS: number;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** The load driver's run summary: the shared keys (kind "load") plus the driver's own (docs/summaries.md). */
export function buildLoadSummary(input: LoadSummaryInput): RunSummary {
  const m = input.measurements;
  const delivered = m.deliveredLive + m.deliveredSync;
  const trafficS = Math.max(1e-3, input.trafficS);
  const invariants = summarizeViolations(input.check.checked, input.check.violations, input.violations);
  if (input.encryption) addDecryptionInvariant(invariants, input.encryption.report.decrypt_failures, input.encryption.failures);
  return {
    kind: 'load',
    scenario: input.scenario.name,
    seed: input.scenario.seed,
    users: input.users,
    devices: input.devices,
    messages: { sent: m.sent, acked: m.acked, delivered },
    latency_ms: { ack: latencyFigures(input.latency.ack), deliver: latencyFigures(input.latency.deliver) },
    invariants,
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
    refused_sends: Object.fromEntries(m.refused),
    error_rate: Math.round(input.errorRate * 1e6) / 1e6,
    abandoned_sends: m.abandoned,
    connect_failures: input.connectFailures,
    groups: input.groups,
    churn: input.churn,
    media: input.media,
    ...(input.membershipChanges ? { membership_changes: input.membershipChanges } : {}),
    ...(input.pushesRecorded !== undefined ? { pushes_recorded: input.pushesRecorded } : {}),
    quiesced: input.quiescence.quiesced,
    settle_s: round1(input.quiescence.waitedMs / 1000),
    ...(input.quiescence.quiesced ? {} : { behind_at_settle: { devices: input.quiescence.behind, examples: input.quiescence.examples } }),
    history_events: input.historyEvents,
    checker_notes: input.check.notes,
    ...(input.encryption ? { encryption: roundedReport(input.encryption.report) } : {}),
    ...(input.faultsSkipped.length > 0 ? { faults_skipped: input.faultsSkipped } : {}),
    ...(input.prometheus ? { prometheus: input.prometheus } : {}),
    ...(input.plantedDrop ? { planted_fault: `test-only: the application never saw ${formatEvent(input.plantedDrop)}` } : {}),
    latency_source: 'driver HDR histograms from the scheduled send time (open model), messages scheduled after warmup_s',
  };
}

/**
 * Decryption is judged like an invariant (named `decryption`): every application message an
 * encrypted device received in an encrypted conversation must decrypt, else the run exits 1. The
 * checker cannot see it (the history holds ciphertext), so it is added to its results here.
 */
export function addDecryptionInvariant(
  invariants: RunSummary['invariants'],
  failureCount: number,
  failures: readonly DecryptFailure[],
): void {
  invariants.checked = [...invariants.checked, 'decryption' as never];
  invariants.violations += failureCount;
  for (const f of failures) {
    if (invariants.witnesses.length >= WITNESSES_IN_SUMMARY_MAX) break;
    invariants.witnesses.push({
      invariant: 'decryption' as never,
      message: `${f.device} could not decrypt ${f.conversationId}#${f.seq}`,
      conversationId: f.conversationId,
      seq: f.seq,
      witness: `decryption: ${describeDecryptFailure(f)}`,
    });
  }
}

function roundedReport(report: EncryptionReport): EncryptionReport {
  const round = (f: EncryptionReport['encrypt_ms']) => ({ ...latencyFigures(f), count: f.count });
  return { ...report, encrypt_ms: round(report.encrypt_ms), decrypt_ms: round(report.decrypt_ms) };
}

/** The readable lines of the encrypted share, printed after the shared summary. */
export function formatEncryption(summary: RunSummary): string | undefined {
  const e = summary.encryption as EncryptionReport | undefined;
  if (!e) return undefined;
  const ms = (f: EncryptionReport['encrypt_ms']) =>
    `p50 ${f.p50.toFixed(2)}  p99 ${f.p99.toFixed(2)}  max ${f.max.toFixed(2)} (${f.count})`;
  return [
    `encryption (MLS)  ${e.users} users, ${e.devices} devices, ${e.conversations.direct} 1:1 + ${e.conversations.groups} groups; setup ${e.setup_s} s`,
    `  sent ${e.messages_sent}  decrypted ${e.messages_decrypted}  decrypt failures ${e.decrypt_failures}`,
    `  encrypt ms  ${ms(e.encrypt_ms)}`,
    `  decrypt ms  ${ms(e.decrypt_ms)}`,
  ].join('\n');
}

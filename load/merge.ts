import { checkHistory, latencySamples, percentiles } from '../checker/index.js';
import type { History, HistoryEvent, QuiesceEvent } from '../checker/history.js';
import { latencyFigures, summarizeViolations, type RunSummary } from '../checker/run-summary.js';
import { LoadErrorCodes } from './error-codes.js';
import type { HistoryFileHeader } from './history-file.js';
import { evaluateObjectives, type ObjectiveSpec } from './slo-gate.js';
import { ToolError } from '../cli/tool-error.js';

export interface ShardHistory {
  header: HistoryFileHeader;
  events: HistoryEvent[];
}

/**
 * One history from the shards' histories: events in time order (stable, so each shard's own
 * order is kept for equal times), and the shards' quiesce events replaced by one quiesce at the
 * *earliest* shard's quiesce time listing every shard's devices. At that moment every device was
 * caught up with everything acked before it — the shards that quiesced later had, by then,
 * received everything acked earlier too — so no delivery is owed that a shard could not see.
 * Times come from each driver's wall clock: keep the machines' clocks in sync (NTP).
 */
export function mergeHistories(shards: readonly ShardHistory[]): History {
  if (shards.length === 0) throw new ToolError(LoadErrorCodes.BAD_HISTORY_FILE, 'no history files to merge');
  const first = shards[0]!.header;
  const seen = new Set<string>();
  for (const { header } of shards) {
    if (header.run_id !== first.run_id || header.scenario !== first.scenario) {
      throw new ToolError(
        LoadErrorCodes.BAD_HISTORY_FILE,
        `histories of different runs: ${first.scenario}/${first.run_id} and ${header.scenario}/${header.run_id}`,
      );
    }
    if (seen.has(header.shard)) throw new ToolError(LoadErrorCodes.BAD_HISTORY_FILE, `shard ${header.shard} given twice`);
    seen.add(header.shard);
  }
  const quiesces: QuiesceEvent[] = [];
  const events: HistoryEvent[] = [];
  for (const shard of shards) {
    for (const event of shard.events) {
      if (event.type === 'quiesce') quiesces.push(event);
      else events.push(event);
    }
  }
  if (quiesces.length === shards.length) {
    events.push({ type: 'quiesce', atMs: Math.min(...quiesces.map((q) => q.atMs)), devices: quiesces.flatMap((q) => q.devices) });
  }
  // Array.prototype.sort is stable: equal times keep shard order, and the quiesce (pushed last) follows them.
  return events.sort((a, b) => a.atMs - b.atMs);
}

/** Shards the headers name (`i/n`) that are missing from the set given. */
export function missingShards(headers: readonly HistoryFileHeader[]): string[] {
  const count = Number(headers[0]?.shard.split('/')[1] ?? 0);
  const present = new Set(headers.map((h) => h.shard));
  return Array.from({ length: count }, (_, i) => `${i}/${count}`).filter((s) => !present.has(s));
}

/** The merged run's summary: checker verdict and latency from the merged history (send→ack, send→deliver). */
export function mergedSummary(
  shards: readonly ShardHistory[],
  history: History,
  objectives: readonly ObjectiveSpec[],
  wallS: number,
): RunSummary {
  const check = checkHistory(history);
  const violations = Object.values(check.counts).reduce((a, b) => a + b, 0);
  const samples = latencySamples(history);
  const ack = percentiles(samples.ackMs);
  const deliver = percentiles(samples.deliverMs);
  const counts = { sent: 0, acked: 0, delivered: 0 };
  const users = new Set<string>();
  const devices = new Set<string>();
  for (const e of history) {
    if (e.type === 'send' && e.attempt === 1) counts.sent++;
    else if (e.type === 'ack') counts.acked++;
    else if (e.type === 'deliver' && e.kind === 'message') counts.delivered++;
    else if (e.type === 'device') {
      users.add(e.userId);
      devices.add(`${e.userId}/${e.deviceId}`);
    }
  }
  const empty = { p50: 0, p95: 0, p99: 0, p999: 0, max: 0, count: 0 };
  const judged = evaluateObjectives(objectives, {
    latency: { ack, deliver, receipt: empty, upload: empty },
    violations,
    // Errors are not in histories: each shard's own summary has its error rate.
    errorRate: 0,
  }).filter((o) => !o.name.startsWith('error.') && !o.name.startsWith('receipt.') && !o.name.startsWith('upload.'));
  const first = shards[0]!.header;
  return {
    kind: 'load',
    scenario: first.scenario,
    seed: first.seed,
    users: users.size,
    devices: devices.size,
    messages: counts,
    latency_ms: { ack: latencyFigures(ack), deliver: latencyFigures(deliver) },
    invariants: summarizeViolations(check.checked, check.violations, violations),
    slo: { passed: judged.every((o) => o.passed), objectives: judged },
    wall_s: Math.round(wallS * 10) / 10,
    run_id: first.run_id,
    merged_shards: shards.map((s) => s.header.shard),
    missing_shards: missingShards(shards.map((s) => s.header)),
    history_events: history.length,
    checker_notes: check.notes,
    latency_source: 'merged histories (first send → ack / live deliver, drivers’ wall clocks)',
  };
}

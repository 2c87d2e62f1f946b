import { createHash } from 'node:crypto';
import * as hdr from 'hdr-histogram-js';
import { exitCodeOf, latencyFigures, WITNESSES_IN_SUMMARY_MAX, type RunSummary } from '../../checker/run-summary.js';
import type { Percentiles } from '../../checker/latency.js';
import type { Scenario } from '../../scenarios/format/index.js';
import { compareCapacity, formatCapacityComparison, type CapacityComparison } from '../capacity/index.js';
import { newHdr, percentilesOfHdr, type EncodedLatency, type SeriesPoint } from '../report/collector.js';
import { judgeSlos } from '../report/judge-slos.js';
import { LogHistogram } from '../report/log-histogram.js';
import type { CellFile, CellRun } from './cell-file.js';
import { CellsErrorCodes } from './cells-error-codes.js';
import { mergeSeries } from './merge-series.js';
import { ToolError } from '../../cli/tool-error.js';

export interface MergedCells {
  summary: RunSummary;
  series: SeriesPoint[];
  exitCode: number;
  notes: string[];
  reproduce: string;
  capacity: CapacityComparison | undefined;
  capacityText: string | undefined;
}

export interface MergeOptions {
  /** Wall time of the whole split run when one command ran it (sim:cells); else the longest cell's. */
  wallS?: number;
  /** The command that reruns the whole split run. */
  reproduce?: string;
}

/**
 * One report for a population run as independent cells (simulator/README.md, "Split runs"): every cell put its users
 * through the real code on the whole deployment's servers, with the other cells as background.
 * Counts add up; latency and staleness come from the cells' histograms added together, so the
 * population's percentiles are exact; invariants add up (each cell's history was checked whole);
 * the SLOs are judged again on the merged figures. What each cell saw of the shared servers
 * (utilisation, tier queues) is averaged or its worst kept. `scenario` is the file the cells ran.
 */
export function mergeCells(scenario: Scenario, runs: readonly CellRun[], options: MergeOptions = {}): MergedCells {
  const cells = checkComplete(scenario, runs);
  const first = cells[0]!;
  const count = first.cell.count;
  const sum = (pick: (c: CellFile) => number) => cells.reduce((a, c) => a + pick(c), 0);
  const max = (pick: (c: CellFile) => number) => Math.max(...cells.map(pick));
  const mean = (pick: (c: CellFile) => number) => sum(pick) / cells.length;
  const detail = (c: CellFile) => c as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  const ack = mergeLatency(cells.map((c) => c.sim.histograms.ack));
  const deliver = mergeLatency(cells.map((c) => c.sim.histograms.deliver));
  const staleness = new LogHistogram();
  for (const c of cells) staleness.addJson(c.sim.histograms.presence_staleness);

  const violations = sum((c) => c.invariants.violations);
  const sent = sum((c) => c.messages.sent);
  const converged = cells.every((c) => c.sim.liveness.converged);
  const slo = judgeSlos(scenario, {
    latency: { ack: ack.percentiles, deliver: deliver.percentiles },
    violations,
    errorRate: sent > 0 ? sum((c) => c.sim.rejected) / sent : 0,
    converged,
  });

  const series = mergeSeries(cells.map((c) => c.series));
  const wallSum = sum((c) => c.wall_s);
  const wallS = options.wallS ?? max((c) => c.wall_s);
  const simulatedS = max((c) => c.sim.simulated_s);
  const events = sum((c) => c.sim.events);
  const heapPeak = max((c) => c.sim.heap_bytes_peak);
  const reproduce = options.reproduce ?? `npm run sim:cells -- scenarios/${scenario.name}.yaml --seed ${first.seed} --cells ${count}`;
  const notes = [
    ...new Set(cells.flatMap((c) => ((c.notes as string[] | undefined) ?? []).map((n) => `cell ${c.cell.index}/${count}: ${n}`))),
  ];

  const framesPerS = cells
    .map((c) => (detail(c).measured_capacity as { framesPerGatewayPerS?: number } | null)?.framesPerGatewayPerS)
    .filter((v): v is number => typeof v === 'number');
  let capacity: CapacityComparison | undefined;
  let capacityText: string | undefined;
  try {
    const measured =
      framesPerS.length > 0
        ? {
            source: `${reproduce} (simulated CPU model, mean of ${framesPerS.length} cells)`,
            framesPerGatewayPerS: Math.round(framesPerS.reduce((a, b) => a + b, 0) / framesPerS.length),
          }
        : undefined;
    capacity = compareCapacity(scenario, measured ? { measured } : {});
    capacityText = formatCapacityComparison(capacity);
  } catch (error) {
    notes.push(`capacity model not derived: ${(error as Error).message}`);
  }

  const amplificationDenominator = sum((c) =>
    detail(c).fanout.amplification > 0 ? detail(c).fanout.queued_deliveries / detail(c).fanout.amplification : 0,
  );
  const queuedDeliveries = sum((c) => detail(c).fanout.queued_deliveries);
  const gateways = (first as Record<string, any>).utilisation.gateways as number[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  const sumBy = (pick: (c: CellFile) => Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const c of cells) for (const [k, v] of Object.entries(pick(c))) out[k] = (out[k] ?? 0) + v;
    return Object.fromEntries(Object.entries(out).sort());
  };

  const summary: RunSummary = {
    kind: 'sim',
    scenario: scenario.name,
    seed: first.seed,
    users: sum((c) => c.users),
    devices: sum((c) => c.devices),
    messages: { sent, acked: sum((c) => c.messages.acked), delivered: sum((c) => c.messages.delivered) },
    latency_ms: { ack: latencyFigures(ack.percentiles), deliver: latencyFigures(deliver.percentiles) },
    invariants: {
      checked: first.invariants.checked,
      violations,
      witnesses: cells
        .flatMap((c) => c.invariants.witnesses.map((w) => ({ ...w, message: `cell ${c.cell.index}/${count}: ${w.message}` })))
        .slice(0, WITNESSES_IN_SUMMARY_MAX),
    },
    slo,
    faults: (first.faults ?? []).map((f, i) => {
      const recovered = cells.map((c) => c.faults?.[i]?.recovered_s ?? null);
      return { ...f, recovered_s: recovered.some((r) => r === null) ? null : Math.max(...(recovered as number[])) };
    }),
    wall_s: round(wallS),
    cells: {
      count,
      users_per_cell_max: max((c) => c.users),
      wall_s_sum: round(wallSum),
      wall_s_max: round(max((c) => c.wall_s)),
      per_cell: cells.map((c) => ({
        index: c.cell.index,
        users: c.users,
        seed: c.cell.seed,
        deliver_p99_ms: c.latency_ms.deliver.p99,
        violations: c.invariants.violations,
        slo_passed: c.slo.passed,
        wall_s: c.wall_s,
        trace_hash: c.sim.trace_hash,
        reproduce: detail(c).reproduce,
      })),
    },
    sim: {
      simulated_s: simulatedS,
      events,
      // Per second of one process's wall time: the cells' events over the cells' wall time.
      events_per_s: Math.round(events / Math.max(1e-9, wallSum)),
      heap_bytes_peak: heapPeak,
      trace_hash: createHash('sha256')
        .update(cells.map((c) => c.sim.trace_hash).join(','))
        .digest('hex')
        .slice(0, 16),
      simulated_per_wall: round(simulatedS / Math.max(1e-9, wallS)),
      cpu_s: round(sum((c) => c.sim.cpu_s)),
      // One process holds one cell: its heap over the users it held.
      bytes_per_user: Math.round(heapPeak / max((c) => c.users)),
      history_events: sum((c) => c.sim.history_events),
      checker: detail(first).sim.checker,
      liveness: {
        converged,
        converged_after_s: converged ? max((c) => c.sim.liveness.converged_after_s ?? 0) : null,
        bound_s: scenario.liveness_bound_s,
      },
      rejected: sum((c) => c.sim.rejected),
      histograms: { ack: ack.encoded, deliver: deliver.encoded, presence_staleness: staleness.toJson() },
    },
    throughput: {
      sent_per_s: round(sum((c) => detail(c).throughput.sent_per_s)),
      acked_per_s: round(sum((c) => detail(c).throughput.acked_per_s)),
      delivered_per_s: round(sum((c) => detail(c).throughput.delivered_per_s)),
    },
    fanout: {
      accepted: sum((c) => detail(c).fanout.accepted),
      queued_deliveries: queuedDeliveries,
      amplification: amplificationDenominator > 0 ? round(queuedDeliveries / amplificationDenominator) : 0,
    },
    depths: {
      inbox_end: sum((c) => detail(c).depths.inbox_end),
      inbox_peak: Math.max(0, ...series.map((p) => p.inbox_depth)),
      gateway_backlog_ms_peak: max((c) => detail(c).depths.gateway_backlog_ms_peak),
      cassandra_queue_peak: max((c) => detail(c).depths.cassandra_queue_peak),
      redis_queue_peak: max((c) => detail(c).depths.redis_queue_peak),
      wal: {
        end: sum((c) => detail(c).depths.wal.end),
        peak: Math.max(0, ...series.map((p) => p.wal_depth ?? 0)),
        appended: sum((c) => detail(c).depths.wal.appended),
        replayed: sum((c) => detail(c).depths.wal.replayed),
        duplicate: sum((c) => detail(c).depths.wal.duplicate),
        refused: sum((c) => detail(c).depths.wal.refused),
      },
    },
    presence_staleness_ms: { p50: round(staleness.percentile(50)), p99: round(staleness.percentile(99)), samples: staleness.total },
    storage: {
      messages_stored: sum((c) => detail(c).storage.messages_stored),
      message_body_bytes: sum((c) => detail(c).storage.message_body_bytes),
      media_objects: sum((c) => detail(c).storage.media_objects),
      media_bytes: sum((c) => detail(c).storage.media_bytes),
      message_bytes_per_s: round(sum((c) => detail(c).storage.message_bytes_per_s)),
    },
    // Each cell saw the whole deployment's load on the shared servers: the mean of their views.
    utilisation: {
      gateways: gateways.map((_, i) => round4(mean((c) => detail(c).utilisation.gateways[i] ?? 0))),
      cassandra: round4(mean((c) => detail(c).utilisation.cassandra)),
      redis: round4(mean((c) => detail(c).utilisation.redis)),
      s3: round4(mean((c) => detail(c).utilisation.s3)),
      push: round4(mean((c) => detail(c).utilisation.push)),
    },
    timeouts: {
      cassandra: sum((c) => detail(c).timeouts.cassandra),
      redis: sum((c) => detail(c).timeouts.redis),
      cassandra_dropped: sum((c) => detail(c).timeouts.cassandra_dropped ?? 0),
    },
    tier_operations: {
      cassandra: sumOperations(cells.map((c) => detail(c).tier_operations?.cassandra)),
      redis: sumOperations(cells.map((c) => detail(c).tier_operations?.redis)),
    },
    errors: sumBy((c) => detail(c).errors ?? {}),
    pushes: sum((c) => detail(c).pushes ?? 0),
    capacity: capacity ? { rows: capacity.rows, measured_source: capacity.measuredSource } : null,
    reproduce,
    notes,
  };
  return { summary, series, exitCode: exitCodeOf(summary), notes, reproduce, capacity, capacityText };
}

/** The cells sorted by index, after checking they are all there, once each, from one run of this scenario. */
function checkComplete(scenario: Scenario, runs: readonly CellRun[]): CellFile[] {
  if (runs.length === 0) throw new ToolError(CellsErrorCodes.INCOMPLETE, 'no cell summaries to merge');
  const { run: first, source: firstSource } = runs[0]!;
  const count = first.cell.count;
  const byIndex = new Map<number, CellRun>();
  for (const { run, source } of runs) {
    const mismatch = (what: string, a: unknown, b: unknown) =>
      new ToolError(
        CellsErrorCodes.MIXED_RUNS,
        `${source} is from another run than ${firstSource}: ${what} ${String(b)} against ${String(a)}`,
      );
    if (run.scenario !== scenario.name)
      throw new ToolError(CellsErrorCodes.MIXED_RUNS, `${source} ran scenario "${run.scenario}", not "${scenario.name}"`);
    if (run.cell.of_users !== scenario.population.users)
      throw new ToolError(
        CellsErrorCodes.MIXED_RUNS,
        `${source} split ${run.cell.of_users} users, the scenario has ${scenario.population.users}`,
      );
    if (run.seed !== first.seed) throw mismatch('seed', first.seed, run.seed);
    if (run.cell.count !== count) throw mismatch('cell count', count, run.cell.count);
    if (run.cell.duration_s !== first.cell.duration_s) throw mismatch('duration_s', first.cell.duration_s, run.cell.duration_s);
    if (run.cell.index >= count)
      throw new ToolError(CellsErrorCodes.BAD_SUMMARY, `${source}: cell ${run.cell.index} of ${count} does not exist`);
    const earlier = byIndex.get(run.cell.index);
    if (earlier)
      throw new ToolError(CellsErrorCodes.INCOMPLETE, `cell ${run.cell.index}/${count} given twice: ${earlier.source} and ${source}`);
    byIndex.set(run.cell.index, { run, source });
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0) {
    const shown = missing
      .slice(0, 10)
      .map((i) => `${i}/${count}`)
      .join(', ');
    throw new ToolError(
      CellsErrorCodes.INCOMPLETE,
      `${missing.length} of ${count} cells missing: ${shown}${missing.length > 10 ? ', …' : ''}`,
    );
  }
  return [...byIndex.keys()].sort((a, b) => a - b).map((i) => byIndex.get(i)!.run);
}

/** The cells' HDR histograms added together: exact population percentiles. */
function mergeLatency(parts: readonly EncodedLatency[]): { percentiles: Percentiles; encoded: EncodedLatency } {
  const total = newHdr();
  let maxMs = 0;
  let count = 0;
  for (const part of parts) {
    const h = hdr.decodeFromCompressedBase64(part.hdr_base64);
    total.add(h);
    h.destroy();
    maxMs = Math.max(maxMs, part.max_ms);
    count += part.count;
  }
  const percentiles = percentilesOfHdr(total, maxMs, count);
  const encoded = { hdr_base64: hdr.encodeIntoCompressedBase64(total), max_ms: maxMs, count };
  total.destroy();
  return { percentiles, encoded };
}

type OperationCounts = Array<{ operation: string; requests: number; timeouts: number }>;

/** The cells' per-operation request counts added up, busiest first. */
function sumOperations(perCell: ReadonlyArray<OperationCounts | undefined>): OperationCounts {
  const total = new Map<string, { requests: number; timeouts: number }>();
  for (const ops of perCell) {
    for (const o of ops ?? []) {
      const t = total.get(o.operation) ?? { requests: 0, timeouts: 0 };
      t.requests += o.requests;
      t.timeouts += o.timeouts;
      total.set(o.operation, t);
    }
  }
  return [...total].map(([operation, t]) => ({ operation, ...t })).sort((a, b) => b.requests - a.requests);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function round4(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}

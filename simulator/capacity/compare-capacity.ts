import type { Scenario } from '../../scenarios/format/index.js';
import type { ReportTable } from '../../reports/index.js';
import { DEFAULT_CAPACITY_ASSUMPTIONS, DESIGN_CARD_ASSUMPTIONS, type CapacityAssumptions } from './capacity-assumptions.js';
import { deriveCapacity, type CapacityPlan } from './derive-capacity.js';
import { DESIGN_CARD_FIGURES } from './design-card.js';
import type { MeasuredCapacity } from './measured-capacity.js';

/*
 * "Design card vs this model vs with measured per-node capacity": the same scenario planned three
 * (or four) ways, side by side, so a reader sees which figures the card's arithmetic gets right,
 * what the model adds (peaks, fan-out, replication, headroom), and what measured capacity changes.
 */

export type CapacityUnit = 'count' | 'per_s' | 'bytes';

export interface CapacityComparisonRow {
  figure: string;
  unit: CapacityUnit;
  /** The card's figure, where its table has one. */
  designCard: number | null;
  /** The model with the card's own assumptions (no headroom, sized at the mean): reproduces the card. */
  cardAssumptions: number;
  /** The model with the default assumptions (headroom, peak, overhead, replication). */
  defaults: number;
  /** The defaults with measured per-node figures in place of planning ones; null without a measurement. */
  measured: number | null;
  /** For tiers: which limit decides, per column (card, defaults, measured). */
  boundBy?: [string, string, string | null];
  /** Which scenario input or assumption drives the figure. */
  drivenBy: string;
}

export interface CapacityComparison {
  scenario: string;
  plans: { cardAssumptions: CapacityPlan; defaults: CapacityPlan; measured: CapacityPlan | null };
  measuredSource: string | null;
  rows: CapacityComparisonRow[];
}

export interface CompareCapacityOptions {
  /** Overrides of the default assumptions (the "defaults" and "measured" columns). */
  assumptions?: Partial<CapacityAssumptions>;
  /** Per-node figures somebody measured; adds the "measured" column. */
  measured?: MeasuredCapacity;
}

/** Plans the scenario with the card's assumptions, the defaults and (when given) measured per-node capacity. Pure. */
export function compareCapacity(scenario: Scenario, options: CompareCapacityOptions = {}): CapacityComparison {
  const defaults: CapacityAssumptions = { ...DEFAULT_CAPACITY_ASSUMPTIONS, ...options.assumptions };
  const card = deriveCapacity(scenario, DESIGN_CARD_ASSUMPTIONS);
  const planned = deriveCapacity(scenario, defaults);
  let measured: CapacityPlan | null = null;
  if (options.measured) {
    const { source: _source, ...perNode } = options.measured;
    measured = deriveCapacity(scenario, { ...defaults, ...perNode });
  }
  const row = (
    figure: string,
    unit: CapacityUnit,
    designCard: number | null,
    pick: (p: CapacityPlan) => number,
    drivenBy: string,
  ): CapacityComparisonRow => ({
    figure,
    unit,
    designCard,
    cardAssumptions: pick(card),
    defaults: pick(planned),
    measured: measured ? pick(measured) : null,
    drivenBy,
  });
  const tier = (
    figure: string,
    designCard: number | null,
    pick: (p: CapacityPlan) => { count: number; boundBy: string },
    drivenBy: string,
  ) => ({
    ...row(figure, 'count', designCard, (p) => pick(p).count, drivenBy),
    boundBy: [pick(card).boundBy, pick(planned).boundBy, measured ? pick(measured).boundBy : null] as [string, string, string | null],
  });
  const rows: CapacityComparisonRow[] = [
    row(
      'messages/s (daily mean)',
      'per_s',
      DESIGN_CARD_FIGURES.messagesPerS,
      (p) => p.traffic.messagesPerSAverage,
      'users × messages_per_user_per_day ÷ 86 400 (or messages_per_s)',
    ),
    row(
      'messages/s (peak)',
      'per_s',
      null,
      (p) => p.traffic.messagesPerSPeak,
      'mean × highest rate_curve × spike multiplier × peakToAverage',
    ),
    row(
      'fan-out copies/s (peak)',
      'per_s',
      null,
      (p) => p.traffic.fanoutCopiesPerSPeak,
      'peak × recipient devices per message (group_share, groups.size, groups.hot, devices_per_user)',
    ),
    row(
      'concurrent connections',
      'count',
      DESIGN_CARD_FIGURES.concurrentConnections,
      (p) => p.connections.concurrent,
      'users × mean devices per user × online_share',
    ),
    row(
      'text bytes/day (one copy)',
      'bytes',
      DESIGN_CARD_FIGURES.textBytesPerDay,
      (p) => p.storage.textBytesPerDay,
      'messages/day × mean message_bytes',
    ),
    row(
      'message log bytes/day',
      'bytes',
      null,
      (p) => p.storage.messageLogBytesPerDay,
      '(message_bytes + messageOverheadBytes) × replicationFactor',
    ),
    row(
      'inbox bytes written/day',
      'bytes',
      null,
      (p) => p.storage.inboxBytesWrittenPerDay,
      'log copy × recipient devices (fan-out on write); removed on acknowledgement',
    ),
    row(
      'media bytes/day',
      'bytes',
      null,
      (p) => p.storage.mediaBytesPerDay,
      'messages/day × media.share × mean media.bytes (object storage, one copy)',
    ),
    tier(
      'WebSocket servers',
      DESIGN_CARD_FIGURES.websocketServers,
      (p) => p.gateway,
      'connections ÷ connectionsPerGateway, or frames/s ÷ framesPerGatewayPerS; × headroom',
    ),
    tier(
      'Cassandra nodes',
      null,
      (p) => p.cassandra,
      'replica writes/s ÷ cassandraWritesPerNodePerS, or retained log ÷ cassandraDiskBytesPerNode; × headroom',
    ),
    tier(
      'Redis shards',
      null,
      (p) => p.redis,
      'ops/s ÷ redisOpsPerShardPerS, or registry+presence memory ÷ redisMemoryBytesPerShard; × headroom',
    ),
  ];
  return {
    scenario: scenario.name,
    plans: { cardAssumptions: card, defaults: planned, measured },
    measuredSource: options.measured ? (options.measured.source ?? 'measured') : null,
    rows,
  };
}

/** 1157407 → "1.16M", 1e13 bytes → "10 TB". Decimal units, as the card uses. */
export function formatCapacityValue(value: number, unit: CapacityUnit): string {
  if (unit === 'bytes') {
    const steps: Array<[number, string]> = [
      [1e15, 'PB'],
      [1e12, 'TB'],
      [1e9, 'GB'],
      [1e6, 'MB'],
      [1e3, 'kB'],
    ];
    for (const [size, name] of steps) if (Math.abs(value) >= size) return `${Number((value / size).toPrecision(3))} ${name}`;
    return `${Math.round(value)} B`;
  }
  if (unit === 'count' && Number.isInteger(value)) return value.toLocaleString('en-US');
  const steps: Array<[number, string]> = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, name] of steps) if (Math.abs(value) >= size) return `${Number((value / size).toPrecision(3))}${name}`;
  return String(Number(value.toPrecision(3)));
}

function columnsOf(c: CapacityComparison): string[] {
  const d = c.plans.defaults.assumptions;
  const columns = [
    'figure',
    'design card',
    "model, card's assumptions",
    `model, defaults (headroom ×${d.headroom}, peak ×${d.peakToAverage}, RF ${d.replicationFactor})`,
  ];
  if (c.plans.measured) columns.push(`with measured per-node capacity (${c.measuredSource})`);
  columns.push('driven by');
  return columns;
}

function cellsOf(c: CapacityComparison, r: CapacityComparisonRow): string[] {
  const f = (v: number | null, bound?: string | null) =>
    v === null ? '—' : `${formatCapacityValue(v, r.unit)}${bound ? ` (${bound})` : ''}`;
  const cells = [
    r.figure,
    r.designCard === null ? '—' : `~${formatCapacityValue(r.designCard, r.unit)}`,
    f(r.cardAssumptions, r.boundBy?.[0]),
    f(r.defaults, r.boundBy?.[1]),
  ];
  if (c.plans.measured) cells.push(f(r.measured, r.boundBy?.[2]));
  cells.push(r.drivenBy);
  return cells;
}

/** The comparison as a `tables` entry for the HTML report. */
export function capacityComparisonTable(c: CapacityComparison): ReportTable {
  return { title: `Capacity: design card vs this model (${c.scenario})`, columns: columnsOf(c), rows: c.rows.map((r) => cellsOf(c, r)) };
}

/** The comparison as aligned plain text (the "driven by" column on its own line under each row). */
export function formatCapacityComparison(c: CapacityComparison): string {
  const columns = columnsOf(c).slice(0, -1);
  const rows = c.rows.map((r) => cellsOf(c, r));
  const widths = columns.map((col, i) =>
    Math.max(i === 0 ? col.length : Math.min(col.length, 28), ...rows.map((cells) => cells[i]!.length)),
  );
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const out = [`capacity plan · ${c.scenario}`, ''];
  columns.forEach((col, i) => {
    if (i > 0) out.push(`  column ${i}: ${col}`);
  });
  out.push('', line(columns.map((col, i) => (i === 0 ? col : `(${i})`))));
  for (let k = 0; k < rows.length; k++) {
    const cells = rows[k]!;
    out.push(line(cells.slice(0, -1)));
    out.push(`    ↳ ${cells[cells.length - 1]}`);
  }
  return out.join('\n');
}

import type { Objective } from '../checker/slo.js';
import type { Scenario } from '../scenarios/format/index.js';
import type { LatencyFiguresMs } from './types.js';

/*
 * The SLO gate: objectives declared in the scenario's `slo:` section, overridable with
 * `--slo NAME=VALUE`, evaluated from the driver's own measurements (and, see prometheus-slo.ts,
 * from the system's metrics). A latency objective passes when the measured value is below the
 * target; counts and rates pass at or below it. Nothing measured is not a pass.
 */

export class SloSpecError extends Error {
  readonly code = 'LOAD_BAD_SLO';
}

export const LATENCY_METRICS = ['ack', 'deliver', 'receipt', 'upload'] as const;
export type LatencyMetric = (typeof LATENCY_METRICS)[number];
export const LATENCY_STATS = ['p50', 'p95', 'p99', 'p999', 'max'] as const;
type LatencyStat = (typeof LATENCY_STATS)[number];

/** Every objective name `--slo` accepts. */
export const OBJECTIVE_NAMES: readonly string[] = [
  ...LATENCY_METRICS.flatMap((m) => LATENCY_STATS.map((s) => `${m}.${s}`)),
  'invariant.violations',
  'error.rate',
];

export interface ObjectiveSpec {
  name: string;
  /** Milliseconds for latency objectives, a count or a ratio (0..1) otherwise. */
  limit: number;
}

export interface Measured {
  latency: Record<LatencyMetric, LatencyFiguresMs>;
  violations: number;
  /** Errors over operations attempted (sends and connects), 0..1. */
  errorRate: number;
}

function isLatency(name: string): boolean {
  return name.includes('.') && (LATENCY_METRICS as readonly string[]).includes(name.split('.')[0]!) && !name.startsWith('error.');
}

/** The objectives a scenario declares (its `slo:` section, defaults filled in). */
export function objectivesOf(slo: Scenario['slo']): ObjectiveSpec[] {
  const specs: ObjectiveSpec[] = [{ name: 'deliver.p99', limit: slo.deliver_p99_ms }];
  if (slo.ack_p99_ms !== undefined) specs.push({ name: 'ack.p99', limit: slo.ack_p99_ms });
  specs.push({ name: 'invariant.violations', limit: slo.violations_max });
  if (slo.error_rate_max !== undefined) specs.push({ name: 'error.rate', limit: slo.error_rate_max });
  return specs;
}

/** Parses one `NAME=VALUE` (e.g. `deliver.p99=200ms`, `error.rate=1%`, `invariant.violations=0`). */
export function parseSloOverride(text: string): ObjectiveSpec {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new SloSpecError(`--slo takes NAME=VALUE (e.g. deliver.p99=200ms), not "${text}"`);
  return { name: checkName(text.slice(0, eq).trim()), limit: parseLimit(text.slice(0, eq).trim(), text.slice(eq + 1).trim()) };
}

function checkName(name: string): string {
  if (!OBJECTIVE_NAMES.includes(name)) {
    throw new SloSpecError(`unknown objective "${name}"; known: ${OBJECTIVE_NAMES.join(', ')}`);
  }
  return name;
}

function parseLimit(name: string, raw: string): number {
  if (isLatency(name)) {
    const match = /^(\d+(?:\.\d+)?|\.\d+)\s*(us|µs|ms|s)?$/.exec(raw);
    if (!match) throw new SloSpecError(`${name} takes a duration such as 200ms, 0.2s or 500us, not "${raw}"`);
    const value = Number(match[1]);
    const unit = match[2] ?? 'ms';
    return unit === 's' ? value * 1000 : unit === 'ms' ? value : value / 1000;
  }
  if (name === 'error.rate') {
    const match = /^(\d+(?:\.\d+)?|\.\d+)\s*(%)?$/.exec(raw);
    const value = match ? Number(match[1]) / (match[2] ? 100 : 1) : NaN;
    if (!(value >= 0 && value <= 1))
      throw new SloSpecError(`error.rate takes a ratio 0..1 or a percentage (e.g. 0.01 or 1%), not "${raw}"`);
    return value;
  }
  if (!/^\d+$/.test(raw)) throw new SloSpecError(`${name} takes a whole number, not "${raw}"`);
  return Number(raw);
}

/** Applies overrides by name: replaces a declared objective or adds a new one. */
export function withOverrides(specs: readonly ObjectiveSpec[], overrides: readonly ObjectiveSpec[]): ObjectiveSpec[] {
  const out = specs.map((s) => ({ ...s }));
  for (const o of overrides) {
    const existing = out.find((s) => s.name === o.name);
    if (existing) existing.limit = o.limit;
    else out.push({ ...o });
  }
  return out;
}

/** Parses a map of overrides (the programmatic form of --slo). */
export function parseSloOverrides(overrides: Record<string, string> | readonly string[]): ObjectiveSpec[] {
  const texts = Array.isArray(overrides) ? overrides : Object.entries(overrides).map(([k, v]) => `${k}=${v}`);
  return texts.map(parseSloOverride);
}

export function targetText(spec: ObjectiveSpec): string {
  if (isLatency(spec.name)) return `< ${spec.limit} ms`;
  return `<= ${spec.limit}`;
}

/** Evaluates one objective from a measured value (null = not measured: fails). */
export function judge(spec: ObjectiveSpec, actual: number | null, suffix = ''): Objective {
  const passed = actual !== null && (isLatency(spec.name) ? actual < spec.limit : actual <= spec.limit);
  return { name: `${spec.name}${suffix}`, target: targetText(spec), actual, passed };
}

/** The driver-measured value of an objective. */
export function measuredValue(name: string, measured: Measured): number | null {
  if (name === 'invariant.violations') return measured.violations;
  if (name === 'error.rate') return measured.errorRate;
  const [metric, stat] = name.split('.') as [LatencyMetric, LatencyStat];
  const figures = measured.latency[metric];
  return figures.count > 0 ? figures[stat] : null;
}

export function evaluateObjectives(specs: readonly ObjectiveSpec[], measured: Measured): Objective[] {
  return specs.map((spec) => judge(spec, measuredValue(spec.name, measured)));
}

import type { Percentiles } from './latency.js';
import type { Objective } from './slo.js';
import type { InvariantName, Violation } from './violation.js';
import { formatViolation } from './format.js';

/** Exit codes shared by every main command (docs/summaries.md). */
export const ExitCodes = {
  OK: 0,
  INVARIANT_VIOLATED: 1,
  SLO_MISSED: 2,
  COULD_NOT_RUN: 3,
} as const;

type LatencyFigures = Pick<Percentiles, 'p50' | 'p95' | 'p99' | 'p999' | 'max'>;

/** The shared core of every run summary (DESIGN "Run summaries"); commands add their own keys. */
export interface RunSummary {
  kind: 'demo' | 'sim' | 'load' | 'chaos';
  scenario: string;
  seed: number;
  users: number;
  devices: number;
  messages: { sent: number; acked: number; delivered: number };
  latency_ms: { ack: LatencyFigures; deliver: LatencyFigures };
  invariants: { checked: InvariantName[]; violations: number; witnesses: Array<Omit<Violation, 'witness'> & { witness: string }> };
  slo: { passed: boolean; objectives: Objective[] };
  faults?: Array<{ kind: string; target: string; at_s: number; healed_s: number | null; recovered_s: number | null }>;
  wall_s: number;
  [extra: string]: unknown;
}

/** Witnesses are kept readable in JSON: the formatted text rather than raw event objects. */
export const WITNESSES_IN_SUMMARY_MAX = 20;

export function summarizeViolations(checked: InvariantName[], violations: Violation[], total: number): RunSummary['invariants'] {
  return {
    checked,
    violations: total,
    witnesses: violations.slice(0, WITNESSES_IN_SUMMARY_MAX).map((v) => ({ ...v, witness: formatViolation(v) })),
  };
}

export function exitCodeOf(summary: Pick<RunSummary, 'invariants' | 'slo'>): number {
  if (summary.invariants.violations > 0) return ExitCodes.INVARIANT_VIOLATED;
  if (!summary.slo.passed) return ExitCodes.SLO_MISSED;
  return ExitCodes.OK;
}

export function latencyFigures(p: Percentiles): LatencyFigures {
  const round = (n: number) => Math.round(n * 100) / 100;
  return { p50: round(p.p50), p95: round(p.p95), p99: round(p.p99), p999: round(p.p999), max: round(p.max) };
}

/** The readable form of the shared keys, printed by every command. */
export function formatSummary(summary: RunSummary): string {
  const lines: string[] = [];
  const l = summary.latency_ms;
  const row = (name: string, f: LatencyFigures) =>
    `  ${name.padEnd(8)} p50 ${f.p50.toFixed(1)}  p95 ${f.p95.toFixed(1)}  p99 ${f.p99.toFixed(1)}  p99.9 ${f.p999.toFixed(1)}  max ${f.max.toFixed(1)}`;
  lines.push(`${summary.kind} · ${summary.scenario} · seed ${summary.seed} · ${summary.users} users, ${summary.devices} devices · ${summary.wall_s.toFixed(1)} s`);
  lines.push(`messages  sent ${summary.messages.sent}  acked ${summary.messages.acked}  delivered ${summary.messages.delivered} (per device)`);
  lines.push('latency (ms)');
  lines.push(row('ack', l.ack));
  lines.push(row('deliver', l.deliver));
  lines.push(`invariants  ${summary.invariants.checked.join(', ')}: ${summary.invariants.violations === 0 ? 'all hold' : `${summary.invariants.violations} violation(s)`}`);
  for (const w of summary.invariants.witnesses) lines.push(w.witness.replace(/^/gm, '    '));
  lines.push('SLOs');
  for (const o of summary.slo.objectives) {
    lines.push(`  ${o.passed ? 'pass' : 'FAIL'}  ${o.name.padEnd(22)} ${String(o.actual === null ? 'n/a' : Math.round(o.actual * 100) / 100).padStart(8)}  (target ${o.target})`);
  }
  if (summary.faults && summary.faults.length > 0) {
    lines.push('faults');
    for (const f of summary.faults) lines.push(`  ${f.kind} ${f.target} at ${f.at_s}s healed ${f.healed_s ?? '-'}s recovered ${f.recovered_s ?? '-'}s`);
  }
  const code = exitCodeOf(summary);
  lines.push(`verdict: ${code === 0 ? 'PASS' : code === 1 ? 'FAIL (invariant violated)' : 'FAIL (SLO missed)'} · exit ${code}`);
  return lines.join('\n');
}

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

/**
 * A run cut short by a signal (Ctrl-C, a cancelled CI job). It still ended its load, settled, was
 * checked and reported: the figures are real, over the part that ran.
 */
export interface RunInterruption {
  signal: 'SIGINT' | 'SIGTERM';
  /** The phase the run was in when the signal came (setup, traffic, settle, safety, …). */
  phase: string;
  /** Wall seconds from the command's start to the signal. */
  after_s: number;
}

/** 128 + the signal's number, as a shell reports a process a signal ended: an interrupted run neither passes nor fails. */
export const INTERRUPTED_EXIT_CODES = Object.freeze({ SIGINT: 130, SIGTERM: 143 } as const);

/** The shared core of every run summary (docs/summaries.md); commands add their own keys. */
export interface RunSummary {
  kind: 'sim' | 'load' | 'chaos';
  scenario: string;
  seed: number;
  users: number;
  devices: number;
  messages: { sent: number; acked: number; delivered: number };
  latency_ms: { ack: LatencyFigures; deliver: LatencyFigures };
  invariants: { checked: InvariantName[]; violations: number; witnesses: Array<Omit<Violation, 'witness'> & { witness: string }> };
  slo: { passed: boolean; objectives: Objective[] };
  faults?: Array<{ kind: string; target: string; at_s: number; healed_s: number | null; recovered_s: number | null }>;
  /** Present when a signal cut the run short; the exit code is then INTERRUPTED_EXIT_CODES[signal]. */
  interrupted?: RunInterruption;
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

/** The exit code of a run: the verdict's, or the interrupted code when a signal cut the run short. */
export function exitCodeOf(summary: Pick<RunSummary, 'invariants' | 'slo' | 'interrupted'>): number {
  if (summary.interrupted) return INTERRUPTED_EXIT_CODES[summary.interrupted.signal];
  return verdictCodeOf(summary);
}

/** 0, 1 or 2 from what was checked, whether or not the run was cut short. */
export function verdictCodeOf(summary: Pick<RunSummary, 'invariants' | 'slo'>): number {
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
  lines.push(
    `${summary.kind} · ${summary.scenario} · seed ${summary.seed} · ${summary.users} users, ${summary.devices} devices · ${summary.wall_s.toFixed(1)} s`,
  );
  lines.push(
    `messages  sent ${summary.messages.sent}  acked ${summary.messages.acked}  delivered ${summary.messages.delivered} (per device)`,
  );
  lines.push('latency (ms)');
  lines.push(row('ack', l.ack));
  lines.push(row('deliver', l.deliver));
  lines.push(
    `invariants  ${summary.invariants.checked.join(', ')}: ${summary.invariants.violations === 0 ? 'all hold' : `${summary.invariants.violations} violation(s)`}`,
  );
  for (const w of summary.invariants.witnesses) lines.push(w.witness.replace(/^/gm, '    '));
  lines.push('SLOs');
  for (const o of summary.slo.objectives) {
    lines.push(
      `  ${o.passed ? 'pass' : 'FAIL'}  ${o.name.padEnd(22)} ${String(o.actual === null ? 'n/a' : Math.round(o.actual * 100) / 100).padStart(8)}  (target ${o.target})`,
    );
  }
  if (summary.faults && summary.faults.length > 0) {
    lines.push('faults');
    for (const f of summary.faults)
      lines.push(`  ${f.kind} ${f.target} at ${f.at_s}s healed ${f.healed_s ?? '-'}s recovered ${f.recovered_s ?? '-'}s`);
  }
  const verdict = verdictText(verdictCodeOf(summary));
  const i = summary.interrupted;
  if (i)
    lines.push(
      `verdict: INTERRUPTED by ${i.signal} in ${i.phase} after ${i.after_s} s · a partial run, judged on what ran: ${verdict} · exit ${exitCodeOf(summary)}`,
    );
  else lines.push(`verdict: ${verdict} · exit ${exitCodeOf(summary)}`);
  return lines.join('\n');
}

function verdictText(code: number): string {
  return code === 0 ? 'PASS' : code === 1 ? 'FAIL (invariant violated)' : 'FAIL (SLO missed)';
}

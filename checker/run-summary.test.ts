import { describe, expect, it } from 'vitest';
import { ExitCodes, exitCodeOf, formatSummary, latencyFigures, summarizeViolations, type RunSummary } from './run-summary.js';
import { evaluateSlos } from './slo.js';
import type { Percentiles } from './latency.js';

const latency = (p99: number, count = 100): Percentiles => ({ p50: p99 / 4, p95: p99 / 2, p99, p999: p99 * 1.5, max: p99 * 2, count });

function summary(violations: number, deliverP99: number): RunSummary {
  const lat = { ack: latency(10), deliver: latency(deliverP99) };
  return {
    kind: 'load',
    scenario: 'unit',
    seed: 1,
    users: 2,
    devices: 2,
    messages: { sent: 1, acked: 1, delivered: 1 },
    latency_ms: { ack: latencyFigures(lat.ack), deliver: latencyFigures(lat.deliver) },
    invariants: summarizeViolations(
      ['order'],
      violations > 0 ? [{ invariant: 'order', message: 'seq 2 before 1', witness: [] }] : [],
      violations,
    ),
    slo: evaluateSlos({ latency: lat, violations }),
    wall_s: 1,
  };
}

describe('SLO evaluation and exit codes (docs/summaries.md)', () => {
  it('passes when every objective holds', () => {
    const s = summary(0, 150);
    expect(s.slo.passed).toBe(true);
    expect(exitCodeOf(s)).toBe(ExitCodes.OK);
    expect(formatSummary(s)).toContain('verdict: PASS');
  });

  it('exits 2 when deliver p99 misses 200 ms', () => {
    const s = summary(0, 250);
    expect(s.slo.objectives.find((o) => o.name === 'deliver.p99')).toMatchObject({ passed: false, actual: 250 });
    expect(exitCodeOf(s)).toBe(ExitCodes.SLO_MISSED);
  });

  it('marks an interrupted run: exit 128 + the signal, the verdict on what ran still given', () => {
    const s = { ...summary(0, 150), interrupted: { signal: 'SIGINT' as const, phase: 'traffic', after_s: 4.2 } };
    expect(exitCodeOf(s)).toBe(130);
    expect(exitCodeOf({ ...s, interrupted: { ...s.interrupted, signal: 'SIGTERM' as const } })).toBe(143);
    expect(formatSummary(s)).toContain(
      'verdict: INTERRUPTED by SIGINT in traffic after 4.2 s · a partial run, judged on what ran: PASS · exit 130',
    );
  });

  it('exits 1 on an invariant violation, before looking at SLOs, and prints the witness', () => {
    const s = summary(1, 250);
    expect(exitCodeOf(s)).toBe(ExitCodes.INVARIANT_VIOLATED);
    expect(formatSummary(s)).toContain('seq 2 before 1');
  });

  it('does not count a run with no live deliveries as meeting the latency objective', () => {
    const result = evaluateSlos({ latency: { ack: latency(1), deliver: latency(0, 0) }, violations: 0 });
    expect(result.objectives[0]).toMatchObject({ name: 'deliver.p99', actual: null, passed: false });
    expect(result.passed).toBe(false);
  });

  it('judges the error rate when a target and a measurement are given', () => {
    const lat = { ack: latency(1), deliver: latency(1) };
    expect(
      evaluateSlos({ latency: lat, violations: 0, errorRate: 0.02 }, { deliverP99Ms: 200, violationsMax: 0, errorRateMax: 0.01 }).passed,
    ).toBe(false);
    expect(
      evaluateSlos({ latency: lat, violations: 0, errorRate: 0.001 }, { deliverP99Ms: 200, violationsMax: 0, errorRateMax: 0.01 }).passed,
    ).toBe(true);
  });
});

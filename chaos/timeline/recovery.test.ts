import { describe, expect, it } from 'vitest';
import type { LoadSample } from '../../load/run-load.js';
import { AbortMonitor } from './abort-monitor.js';
import { baselineOf, recoveredAt, recoveryP99LimitMs, type RecoveryRule } from './recovery.js';

/** One sample per second: `delivered` and `p99` per second from t = 1; offered 10/s unless the settle phase. */
function samples(delivered: number[], p99: Array<number | null>, offered = 10): LoadSample[] {
  return delivered.map((d, i) => ({
    atS: i + 1,
    connections: 10,
    offeredPerS: offered,
    sentPerS: offered,
    ackedPerS: offered,
    deliveredPerS: d,
    errorsPerS: 0,
    refusedPerS: 0,
    deliverP50Ms: p99[i] === null ? null : p99[i]! / 2,
    deliverP99Ms: p99[i]!,
    ackP99Ms: null,
  }));
}

const rule: RecoveryRule = { throughput_within: 0.3, deliver_p99_ms: 200, baseline_p99_factor: 2, window_s: 1, hold_s: 3 };

describe('recovery time from the per-second series', () => {
  //                  t=1   2   3   4   5 (fault) 6  7   8   9  10  11  12
  const delivered = [20, 20, 20, 20, 0, 0, 0, 5, 20, 20, 20, 20];
  const p99 = [50, 50, 50, 50, null, null, null, 900, 60, 60, 60, 60];

  it('takes the pre-fault level as the baseline', () => {
    const baseline = baselineOf(samples(delivered, p99), 0, 4)!;
    expect(baseline.deliveredPerS).toBe(20);
    expect(baseline.deliveredPerOffered).toBe(2);
    expect(baseline.deliverP99Ms).toBe(50);
    expect(baseline.seconds).toBe(4);
  });

  it('recovers at the first second of a healthy stretch of hold_s seconds', () => {
    const series = samples(delivered, p99);
    const baseline = baselineOf(series, 0, 4)!;
    // Healed at 6 s: seconds 7 and 8 are still down or slow, 9..11 are healthy.
    expect(recoveredAt(series, 6, baseline, rule)).toBe(9);
  });

  it('is null when service never comes back while the load runs', () => {
    const series = samples([20, 20, 20, 20, 0, 0, 0, 0, 20, 20], [50, 50, 50, 50, null, null, null, null, 60, 60]);
    const baseline = baselineOf(series, 0, 4)!;
    expect(recoveredAt(series, 5, baseline, rule)).toBeNull();
  });

  it('does not count the settle phase (nothing offered) as recovered', () => {
    const traffic = samples([20, 20, 20, 20, 0, 0], [50, 50, 50, 50, null, null]);
    const settle = samples([20, 20, 20, 20], [50, 50, 50, 50], 0).map((s, i) => ({ ...s, atS: 7 + i }));
    const series = [...traffic, ...settle];
    expect(recoveredAt(series, 5, baselineOf(series, 0, 4)!, rule)).toBeNull();
  });

  it('needs throughput within the tolerance of the baseline, averaged over the window', () => {
    const low = samples([20, 20, 20, 20, 0, 10, 10, 10, 10], [50, 50, 50, 50, null, 50, 50, 50, 50]);
    expect(recoveredAt(low, 5, baselineOf(low, 0, 4)!, rule)).toBeNull();
    const ok = samples([20, 20, 20, 20, 0, 15, 15, 15, 15], [50, 50, 50, 50, null, 50, 50, 50, 50]);
    expect(recoveredAt(ok, 5, baselineOf(ok, 0, 4)!, rule)).toBe(6);
  });

  it('on a machine that missed the target before the fault, compares p99 with a multiple of the pre-fault p99', () => {
    const slow = samples([20, 20, 20, 20, 0, 20, 20, 20, 20, 20, 20], [1000, 1000, 1000, 1000, null, 2500, 1900, 1900, 1900, 1900, 1900]);
    const baseline = baselineOf(slow, 0, 4)!;
    expect(recoveryP99LimitMs(baseline, rule)).toBe(2000);
    expect(recoveredAt(slow, 5, baseline, rule)).toBe(7);
    expect(recoveryP99LimitMs(baseline, { ...rule, baseline_p99_factor: 1 })).toBe(1000);
    expect(recoveredAt(slow, 5, baseline, { ...rule, baseline_p99_factor: 1 })).toBeNull();
  });

  it('has no baseline when nothing was delivered before the fault', () => {
    expect(baselineOf(samples([0, 0, 0], [null, null, null]), 0, 3)).toBeUndefined();
  });
});

describe('abort rule', () => {
  it('fires after for_s consecutive bad seconds, not on a shorter streak', () => {
    const monitor = new AbortMonitor({ deliver_p99_above_ms: 1000, for_s: 3 });
    const series = samples([1, 1, 1, 1, 1, 1], [2000, 2000, 50, 2000, 2000, 2000]);
    const reasons = series.map((s) => monitor.observe(s));
    expect(reasons.slice(0, 5)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(reasons[5]).toContain('deliver p99 2000 ms > 1000 ms');
  });

  it('counts the error rate of each second and treats nothing delivered as above the p99 limit', () => {
    const errors = new AbortMonitor({ error_rate_above: 0.5, for_s: 1 });
    expect(errors.observe({ ...samples([1], [50])[0]!, sentPerS: 10, errorsPerS: 6 })).toContain('error rate 0.60 > 0.5');
    const silent = new AbortMonitor({ deliver_p99_above_ms: 1000, for_s: 1 });
    expect(silent.observe(samples([0], [null])[0]!)).toContain('nothing delivered live');
  });

  it('ignores the settle phase and stays quiet without limits', () => {
    const monitor = new AbortMonitor({ deliver_p99_above_ms: 10, for_s: 1 });
    expect(monitor.observe(samples([1], [5000], 0)[0]!)).toBeUndefined();
    expect(new AbortMonitor({ for_s: 1 }).observe(samples([0], [null])[0]!)).toBeUndefined();
  });
});

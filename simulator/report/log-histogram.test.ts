import { describe, expect, it } from 'vitest';
import { LOG_HISTOGRAM_RANGE_MS, LogHistogram } from './log-histogram.js';

describe('LogHistogram', () => {
  it('gives percentiles within a bin (5 %) from sub-millisecond to outage-scale latencies', () => {
    for (const ms of [0.2, 40, 900, 20_000, 95_000, 30 * 60_000]) {
      const h = new LogHistogram();
      for (let k = 0; k < 99; k++) h.record(ms);
      h.record(ms * 2); // the max, so the percentile is not just capped at it
      const p99 = h.percentile(99);
      expect(p99, `${ms} ms`).toBeGreaterThanOrEqual(ms);
      expect(p99, `${ms} ms`).toBeLessThanOrEqual(ms * 1.051);
    }
  });

  it('keeps an outage-scale p99 apart from a 13 s one (the old range ended at ~13.3 s)', () => {
    const h = new LogHistogram();
    for (let k = 0; k < 50; k++) h.record(5_000);
    for (let k = 0; k < 50; k++) h.record(60_000);
    h.record(61_000);
    expect(h.percentile(99)).toBeGreaterThan(55_000);
    expect(h.percentile(99)).toBeLessThanOrEqual(61_000);
  });

  it('reports latencies beyond its range as the exact max', () => {
    const h = new LogHistogram();
    h.record(LOG_HISTOGRAM_RANGE_MS * 3);
    expect(h.percentile(50)).toBe(LOG_HISTOGRAM_RANGE_MS * 3);
  });

  it('round-trips through its summary-file form and merges', () => {
    const a = new LogHistogram();
    const b = new LogHistogram();
    for (let k = 0; k < 10; k++) a.record(30_000 + k);
    b.record(1);
    b.addJson(a.toJson());
    expect(b.total).toBe(11);
    expect(b.max).toBe(30_009);
    expect(b.percentile(99)).toBeGreaterThan(28_000);
  });
});

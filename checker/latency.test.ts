import { describe, expect, it } from 'vitest';
import { latencySamples, latencySummary, percentiles } from './index.js';
import { HistoryBuilder } from './test-support/builder.js';
import { G, alice, bob, carol } from './test-support/scenario.js';

describe('latency', () => {
  it('measures from the first attempt to the first ack and to each live delivery', () => {
    const h = new HistoryBuilder()
      .send(alice, G, 'a1', 1, 1_000)
      .send(alice, G, 'a1', 2, 1_500) // retry: latency still counts from attempt 1
      .ack(alice, G, 'a1', 2, 1_520)
      .ack(alice, G, 'a1', 2, 1_530) // re-ack: not a second sample
      .deliverMessage(bob, G, 2, alice, 'a1', 'live', 1_540.25)
      .deliverMessage(carol, G, 2, alice, 'a1', 'sync', 9_000) // offline: not a latency sample
      .deliverMessage(['zed', 'phone'], G, 3, ['zed', 'x'], 'unknown-send', 'live', 9_000) // send not recorded
      .build();
    expect(latencySamples(h)).toEqual({ ackMs: [520], deliverMs: [540.25] });
  });

  it('computes percentiles with sub-millisecond precision', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => (i + 1) / 10); // 0.1 … 100 ms
    const p = percentiles(samples);
    expect(p.count).toBe(1000);
    expect(p.max).toBe(100);
    expect(p.p50).toBeCloseTo(50, 1);
    expect(p.p95).toBeCloseTo(95, 1);
    expect(p.p99).toBeCloseTo(99, 1);
    expect(p.p999).toBeCloseTo(99.9, 1);
    expect(percentiles([0.25]).p50).toBeCloseTo(0.25, 3);
  });

  it('handles no samples, huge values and a summary', () => {
    expect(percentiles([])).toEqual({ p50: 0, p95: 0, p99: 0, p999: 0, max: 0, count: 0 });
    const p = percentiles([5, 10 * 3_600_000]);
    expect(p.count).toBe(2);
    expect(p.max).toBe(36_000_000);
    expect(p.p99).toBeLessThanOrEqual(3_600_000 * 1.001);
    expect(latencySummary([]).deliver.count).toBe(0);
  });
});

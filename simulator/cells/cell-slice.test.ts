import { describe, expect, it } from 'vitest';
import { tinyScenario } from '../testing/tiny-scenario.js';
import { parseCellSlice, scenarioOfCell, seedOfCell, usersOfCell } from './cell-slice.js';
import { CellsErrorCodes } from './cells-error-codes.js';
import { mergeSeries } from './merge-series.js';
import type { SeriesPoint } from '../report/collector.js';

describe('cell slices', () => {
  it('parses i/n and refuses anything else with a clear error', () => {
    expect(parseCellSlice('3/50')).toEqual({ index: 3, count: 50 });
    for (const bad of ['50/50', '-1/4', '1/0', '1', 'a/b', '1/2/3']) {
      expect(() => parseCellSlice(bad)).toThrow(expect.objectContaining({ code: CellsErrorCodes.BAD_SLICE }));
    }
  });

  it('splits the population so the cells add up to it, each with its own seed', () => {
    const sizes = Array.from({ length: 7 }, (_, i) => usersOfCell(1_000_003, { index: i, count: 7 }));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1_000_003);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(() => usersOfCell(5, { index: 0, count: 6 })).toThrow(expect.objectContaining({ code: CellsErrorCodes.BAD_SLICE }));
    const seeds = new Set(Array.from({ length: 50 }, (_, i) => seedOfCell(1, { index: i, count: 50 })));
    expect(seeds.size).toBe(50);
    expect(scenarioOfCell(tinyScenario(), { index: 1, count: 3 }).sim.cell_users).toBe(50);
  });

  it('merges time series interval by interval: rates and depths add, shared-server views keep the worst', () => {
    const point = (sent: number, p50: number, p99: number, queue: number, wal: number | null): SeriesPoint => ({
      t_s: 1,
      sent_per_s: sent,
      acked_per_s: sent,
      delivered_per_s: sent,
      ack_p50_ms: p50,
      ack_p99_ms: p99,
      deliver_p50_ms: p50,
      deliver_p99_ms: p99,
      online_devices: 10,
      inbox_depth: 5,
      gateway_cpu_wait_ms_peak: queue,
      cassandra_queue_peak: queue,
      redis_queue_peak: queue,
      wal_depth: wal,
    });
    const [merged] = mergeSeries([[point(30, 10, 50, 4, null)], [point(10, 50, 120, 9, 3)], [point(0, 0, 0, 1, null)]]);
    expect(merged).toMatchObject({
      sent_per_s: 40,
      deliver_p50_ms: 20,
      deliver_p99_ms: 120,
      online_devices: 30,
      inbox_depth: 15,
      cassandra_queue_peak: 9,
      wal_depth: 3,
    });
    expect(mergeSeries([[point(1, 1, 1, 1, null)], []])).toEqual([]);
  });
});

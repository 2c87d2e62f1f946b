import { describe, expect, it } from 'vitest';
import { RunCollector } from '../report/collector.js';
import { runSimulation } from '../run-simulation.js';
import { tinyScenario } from '../testing/tiny-scenario.js';
import { parseCellFile, type CellRun } from './cell-file.js';
import { CellsErrorCodes } from './cells-error-codes.js';
import { mergeCells } from './merge-cells.js';
import { mergeSeries } from './merge-series.js';

const scenario = tinyScenario('faults:\n  - { kind: gateway_crash, target: gateway-1, at_s: 6, duration_s: 3 }\n', {
  users: 120,
  durationS: 12,
});

/** Runs cell i of n in process and returns it as its --json file would hold it. */
async function cell(index: number, count: number, seed = 7): Promise<CellRun> {
  const result = await runSimulation({ scenario, seed, cell: { index, count } });
  return parseCellFile(JSON.parse(JSON.stringify({ ...result.summary, series: result.series })), `cell-${index}.json`);
}

describe('a population split into cells', () => {
  it("runs each cell as its own sample with the run's faults, and merges them into one report of the whole population", async () => {
    const cells = [await cell(0, 3), await cell(1, 3), await cell(2, 3)];
    const runs = cells.map((c) => c.run);
    // Each cell: its share of the users, its own seed, the same faults at the same moments.
    expect(runs.map((r) => r.users)).toEqual([40, 40, 40]);
    expect(new Set(runs.map((r) => r.cell.seed)).size).toBe(3);
    expect(new Set(runs.map((r) => r.sim.trace_hash)).size).toBe(3);
    for (const r of runs) expect(r.faults?.map((f) => [f.kind, f.target, f.at_s])).toEqual([['gateway_crash', 'gateway-1', 6]]);

    const merged = mergeCells(scenario, [cells[2]!, cells[0]!, cells[1]!]);
    const s = merged.summary as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(s.users).toBe(120);
    expect(s.messages.sent).toBe(runs.reduce((a, r) => a + r.messages.sent, 0));
    expect(s.messages.delivered).toBe(runs.reduce((a, r) => a + r.messages.delivered, 0));
    expect(s.invariants.violations).toBe(0);
    expect(s.sim.histograms.deliver.count).toBe(runs.reduce((a, r) => a + r.sim.histograms.deliver.count, 0));
    // The population's p99 lies within the cells' spread; its max is the worst cell's.
    const p99s = runs.map((r) => r.latency_ms.deliver.p99);
    expect(s.latency_ms.deliver.p99).toBeGreaterThanOrEqual(Math.min(...p99s) - 0.01);
    expect(s.latency_ms.deliver.p99).toBeLessThanOrEqual(Math.max(...p99s) + 0.01);
    expect(s.latency_ms.deliver.max).toBe(Math.max(...runs.map((r) => r.latency_ms.deliver.max)));
    expect(s.cells.per_cell.map((c: { index: number }) => c.index)).toEqual([0, 1, 2]);
    expect(s.faults).toHaveLength(1);
    // Interval by interval, the rates add up.
    expect(merged.series[3]!.sent_per_s).toBeCloseTo(
      runs.reduce((a, r) => a + r.series[3]!.sent_per_s, 0),
      1,
    );
    expect(merged.exitCode).toBe(merged.summary.slo.passed ? 0 : 2);
  }, 120_000);

  it("merges latency from the histograms, not by averaging the cells' percentiles", async () => {
    const [a, b] = [await cell(0, 2), await cell(1, 2)];
    const fast = new RunCollector(1_000, 0);
    const slow = new RunCollector(1_000, 0);
    for (let i = 0; i < 900; i++) fast.deliveryObserved(10, 10);
    for (let i = 0; i < 100; i++) slow.deliveryObserved(10, 500);
    a!.run.sim.histograms = fast.histograms();
    b!.run.sim.histograms = slow.histograms();
    const merged = mergeCells(scenario, [a!, b!]).summary;
    // 90 % of the population's deliveries took 10 ms, 10 % took 500 ms.
    expect(merged.latency_ms.deliver.p50).toBeCloseTo(10, 0);
    expect(merged.latency_ms.deliver.p95).toBeCloseTo(500, 0);
    expect(merged.latency_ms.deliver.max).toBe(500);
    expect(merged.slo.passed).toBe(false);
    fast.destroy();
    slow.destroy();
  }, 120_000);

  it('refuses incomplete, repeated or mixed sets of cells, and files that are not cells', async () => {
    const [c0, c1] = [await cell(0, 2), await cell(1, 2)];
    expect(() => mergeCells(scenario, [c0!])).toThrow(
      expect.objectContaining({ code: CellsErrorCodes.INCOMPLETE, message: expect.stringContaining('1 of 2 cells missing: 1/2') }),
    );
    expect(() => mergeCells(scenario, [c0!, c0!, c1!])).toThrow(
      expect.objectContaining({ code: CellsErrorCodes.INCOMPLETE, message: expect.stringContaining('given twice') }),
    );
    const otherSeed = await cell(1, 2, 8);
    expect(() => mergeCells(scenario, [c0!, otherSeed])).toThrow(
      expect.objectContaining({ code: CellsErrorCodes.MIXED_RUNS, message: expect.stringContaining('seed') }),
    );
    expect(() => mergeCells({ ...scenario, name: 'other' }, [c0!, c1!])).toThrow(
      expect.objectContaining({ code: CellsErrorCodes.MIXED_RUNS }),
    );
    const whole = await runSimulation({ scenario, seed: 7 });
    expect(() => parseCellFile({ ...whole.summary, series: whole.series }, 'whole.json')).toThrow(
      expect.objectContaining({ code: CellsErrorCodes.BAD_SUMMARY, message: expect.stringContaining('whole.json') }),
    );
    expect(() => parseCellFile([1, 2], 'array.json')).toThrow(expect.objectContaining({ code: CellsErrorCodes.BAD_SUMMARY }));
  }, 120_000);
});

describe('mergeSeries, planner figures', () => {
  const base = {
    t_s: 1,
    sent_per_s: 1,
    acked_per_s: 1,
    delivered_per_s: 1,
    ack_p50_ms: 1,
    ack_p99_ms: 1,
    deliver_p50_ms: 1,
    deliver_p99_ms: 1,
    online_devices: 1,
    inbox_depth: 0,
    gateway_cpu_wait_ms_peak: 0,
    cassandra_queue_peak: 0,
    redis_queue_peak: 0,
    wal_depth: null,
  };
  it('adds each gateway’s connections over the cells and averages their views of utilisation', () => {
    const [merged] = mergeSeries([
      [
        {
          ...base,
          connections_per_gateway: [10, 20],
          cassandra_utilisation: 0.4,
          redis_utilisation: 0.1,
          gateway_cpu_utilisation_max: 0.5,
        },
      ],
      [{ ...base, connections_per_gateway: [1, 2], cassandra_utilisation: 0.6, redis_utilisation: 0.1, gateway_cpu_utilisation_max: 0.7 }],
    ]);
    expect(merged).toMatchObject({
      connections_per_gateway: [11, 22],
      cassandra_utilisation: 0.5,
      redis_utilisation: 0.1,
      gateway_cpu_utilisation_max: 0.6,
    });
  });

  it('leaves the figures out when a cell’s summary predates them', () => {
    const [merged] = mergeSeries([[{ ...base, connections_per_gateway: [10], cassandra_utilisation: 0.4 }], [base]]);
    expect(merged!.connections_per_gateway).toBeUndefined();
    expect(merged!.cassandra_utilisation).toBeUndefined();
  });
});

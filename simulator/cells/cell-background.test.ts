import { describe, expect, it } from 'vitest';
import { BACKGROUND_WINDOW_MS, BackgroundLoad } from '../../system/adapters/virtual/background-load.js';
import { SeededRandom } from '../../system/adapters/virtual/seeded-random.js';
import { ServiceTier } from '../../system/adapters/virtual/service-tier.js';
import { Scheduler } from '../../system/adapters/virtual/scheduler.js';
import { runSimulation } from '../run-simulation.js';
import { tinyScenario } from '../testing/tiny-scenario.js';
import { GatewayCpu } from '../../system/worlds/simulated/gateway-cpu.js';

/** Background requests of `load` due by `untilMs`, as [atMs, size] pairs. */
function drained(load: BackgroundLoad, untilMs: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  load.drainUntil(untilMs, (atMs, size) => out.push([atMs, size]));
  return out;
}

/** A cell sending one request every `gapMs` from 0 to `untilMs`, sizes cycling through `sizes`; returns the background it drew. */
function cellSending(
  load: BackgroundLoad,
  gapMs: number,
  untilMs: number,
  sizes: number[],
): { cellRequests: number; background: Array<[number, number]> } {
  const background: Array<[number, number]> = [];
  let cellRequests = 0;
  for (let at = 0; at <= untilMs; at += gapMs) {
    load.drainUntil(at, (atMs, size) => background.push([atMs, size]));
    load.echo(at, sizes[cellRequests % sizes.length]!);
    cellRequests++;
  }
  return { cellRequests, background };
}

describe("background load (a cell run: the other cells' requests on the same servers)", () => {
  it("runs at `copies` times the cell's rate, in time order, with sizes drawn from the cell's own", () => {
    const load = new BackgroundLoad(3, new SeededRandom(1));
    const { cellRequests, background } = cellSending(load, 10, 60_000, [1, 100]);
    const ratio = background.length / cellRequests;
    expect(ratio).toBeGreaterThan(2.9);
    expect(ratio).toBeLessThan(3.1);
    const times = background.map(([at]) => at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(background.map(([, size]) => size))).toEqual(new Set([1, 100]));
    const meanSize = background.reduce((sum, [, size]) => sum + size, 0) / background.length;
    expect(meanSize).toBeGreaterThan(45);
    expect(meanSize).toBeLessThan(56);
    expect(load.generated).toBe(background.length);
  });

  it('keeps a rare big request rare: drawn, not copied in a burst after it', () => {
    // One request in 100 is big. Copied 19 times within a second, each big one would bring 19 big
    // ones with it; drawn, about 19 in 100 background requests are big, spread like the cell's.
    const load = new BackgroundLoad(19, new SeededRandom(4));
    const sizes = Array.from({ length: 100 }, (_, i) => (i === 0 ? 300 : 1));
    const { background } = cellSending(load, 10, 120_000, sizes);
    const big = background.filter(([, size]) => size === 300).map(([at]) => at);
    expect(big.length / background.length).toBeGreaterThan(0.007);
    expect(big.length / background.length).toBeLessThan(0.013);
    // The cell sends a big one every second; the background, ~19 per second, not clustered after them.
    let withinFirstTenth = 0;
    for (const at of big) if (at % 1_000 < 100) withinFirstTenth++;
    expect(withinFirstTenth / big.length).toBeLessThan(0.2);
  });

  it("follows the cell's rate within a window, and stops when the cell goes quiet", () => {
    const load = new BackgroundLoad(4, new SeededRandom(2));
    cellSending(load, 10, 5_000, [1]);
    const fast = drained(load, 5_000 + BACKGROUND_WINDOW_MS / 10).length;
    expect(fast).toBeGreaterThan(0);
    // Nothing from the cell for more than a window: no background either, until it speaks again.
    const tail = drained(load, 60_000);
    expect(tail.every(([at]) => at <= 5_000 + BACKGROUND_WINDOW_MS * 1.1)).toBe(true);
    expect(drained(load, 120_000)).toEqual([]);
    load.echo(120_000, 7);
    const again = drained(load, 130_000);
    expect(again.length).toBeGreaterThan(0);
    expect(again.every(([at]) => at >= 120_000)).toBe(true);
  });

  it('refuses a negative or non-finite number of copies, and a window that is not positive', () => {
    expect(() => new BackgroundLoad(-1, new SeededRandom(1))).toThrow(/finite number >= 0/);
    expect(() => new BackgroundLoad(Number.POSITIVE_INFINITY, new SeededRandom(1))).toThrow(/finite number >= 0/);
    expect(() => new BackgroundLoad(1, new SeededRandom(1), 0)).toThrow(/background window/);
  });

  it('drops the background due during an outage, and forgets the rate of a crashed process', () => {
    const load = new BackgroundLoad(4, new SeededRandom(2));
    cellSending(load, 10, 1_000, [1]);
    load.discardUntil(1_500);
    const after = drained(load, 1_600);
    expect(after.every(([at]) => at > 1_500)).toBe(true);
    load.clear();
    expect(drained(load, 60_000)).toEqual([]);
  });

  /** Mean answer time of `requests` calls to a one-server tier, one every `gapMs`, with `copies` of background. */
  async function meanAnswerMs(copies: number, requests: number, gapMs: number): Promise<{ meanMs: number; busyMs: number }> {
    const time = new Scheduler();
    const draws = new SeededRandom(3);
    const tier = new ServiceTier(time, {
      name: 'test',
      oneWayLatencyMs: () => 0,
      serviceTimeMs: () => 1,
      concurrency: 1,
      timeoutMs: 60_000,
      ...(copies > 0 ? { background: { load: new BackgroundLoad(copies, draws), serviceTimeMs: () => 1 } } : {}),
    });
    let totalMs = 0;
    for (let i = 0; i < requests; i++) {
      time.schedule(i * gapMs, () => {
        const sentAt = time.nowMs();
        void tier
          .call(async () => undefined)
          .then(() => {
            totalMs += time.nowMs() - sentAt;
          });
      });
    }
    await time.run(requests * gapMs + 60_000);
    return { meanMs: totalMs / requests, busyMs: tier.stats.busyMs };
  }

  it("makes a tier as busy as the whole deployment: the cell's requests wait behind the background", async () => {
    // Alone, the cell keeps the one server 20 % busy (1 ms of work every 5 ms) and never waits
    // beyond its own service time plus the tick. With three copies of background the server is
    // 80 % busy, and the cell's requests queue.
    const alone = await meanAnswerMs(0, 2_000, 5);
    const withBackground = await meanAnswerMs(3, 2_000, 5);
    expect(alone.meanMs).toBeLessThanOrEqual(2);
    expect(withBackground.meanMs).toBeGreaterThan(alone.meanMs + 0.5);
    // The server did the background's work too: about four times the cell's own.
    expect(withBackground.busyMs).toBeGreaterThan(3.8 * alone.busyMs);
    expect(withBackground.busyMs).toBeLessThan(4.2 * alone.busyMs);
  });

  it("makes a gateway CPU as busy as the whole deployment's gateway", async () => {
    const time = new Scheduler();
    const alone = new GatewayCpu(time, 1);
    const shared = new GatewayCpu(time, 1, new BackgroundLoad(4, new SeededRandom(5)));
    for (let i = 0; i < 6_000; i++) {
      time.schedule(i * 10, () => {
        alone.reserve(0.1);
        shared.reserve(0.1);
      });
    }
    await time.run(60_000);
    expect(alone.busyMs).toBeCloseTo(600, 6);
    // Four frames of background per frame of the cell's: about five times as busy.
    expect(shared.busyMs / alone.busyMs).toBeGreaterThan(4.8);
    expect(shared.busyMs / alone.busyMs).toBeLessThan(5.2);
  });

  it('runs a cell of a population with the rest as background: invariants hold, the tiers carry the whole load', async () => {
    const base = tinyScenario('', { users: 600, durationS: 12 });
    const cellOnly = { ...base, sim: { ...base.sim, cell_users: 150, cell_background: false } };
    const withBackground = { ...base, sim: { ...base.sim, cell_users: 150, cell_background: true } };
    const alone = await runSimulation({ scenario: cellOnly, seed: 3 });
    const loaded = await runSimulation({ scenario: withBackground, seed: 3 });
    expect(loaded.summary.cell).toMatchObject({ users: 150, of_users: 600, scale: 4, background: true });
    expect(loaded.violations).toEqual([]);
    expect(loaded.summary.messages.acked).toBeGreaterThan(0);
    const utilisation = (r: typeof alone) => (r.summary as unknown as { utilisation: { cassandra: number } }).utilisation.cassandra;
    // The same cell traffic (same seed), and three copies of it as background: close to 4× the utilisation.
    expect(utilisation(loaded) / utilisation(alone)).toBeGreaterThan(3.2);
    expect(utilisation(loaded) / utilisation(alone)).toBeLessThan(4.8);
  });
});

import { describe, expect, it } from 'vitest';
import { BACKGROUND_SPREAD_MS, BackgroundReplay } from '../../system/adapters/virtual/background-replay.js';
import { SeededRandom } from '../../system/adapters/virtual/seeded-random.js';
import { ServiceTier } from '../../system/adapters/virtual/service-tier.js';
import { Scheduler } from '../engine/scheduler.js';
import { runSimulation } from '../run-simulation.js';
import { tinyScenario } from '../testing/tiny-scenario.js';
import { GatewayCpu } from './gateway-cpu.js';

/** Background arrivals of `replay` drained up to `untilMs`, as [atMs, amount] pairs. */
function drained(replay: BackgroundReplay, untilMs: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  replay.drainUntil(untilMs, (atMs, amount) => out.push([atMs, amount]));
  return out;
}

describe('background replay (a cell run: the other cells\' load on the same servers)', () => {
  it('echoes each request `copies` times within the spread, carrying its size, drained in time order', () => {
    const replay = new BackgroundReplay(3, new SeededRandom(1));
    replay.echo(100, 5);
    replay.echo(110, 2);
    expect(replay.pending).toBe(6);
    expect(drained(replay, 99)).toEqual([]);
    const all = drained(replay, 100 + 10 + BACKGROUND_SPREAD_MS);
    expect(all).toHaveLength(6);
    // In time order at the simulator's 1 ms resolution.
    const ms = all.map(([at]) => Math.floor(at));
    expect(ms).toEqual([...ms].sort((a, b) => a - b));
    expect(all.filter(([, amount]) => amount === 5).every(([at]) => at >= 100 && at < 100 + BACKGROUND_SPREAD_MS)).toBe(true);
    expect(all.filter(([, amount]) => amount === 2).every(([at]) => at >= 110 && at < 110 + BACKGROUND_SPREAD_MS)).toBe(true);
    expect(replay.pending).toBe(0);
    expect(replay.served).toBe(6);
  });

  it('keeps copies far ahead (a request held up by a long latency) and serves them at their time, jumping idle stretches', () => {
    const replay = new BackgroundReplay(2, new SeededRandom(9));
    replay.echo(10, 1);
    replay.echo(60_000, 3); // far beyond the ring from ms 10
    const early = drained(replay, 10 + BACKGROUND_SPREAD_MS);
    expect(early.map(([, amount]) => amount)).toEqual([1, 1]);
    expect(drained(replay, 59_999)).toEqual([]);
    expect(replay.pending).toBe(2);
    const late = drained(replay, 60_000 + BACKGROUND_SPREAD_MS);
    expect(late.map(([, amount]) => amount)).toEqual([3, 3]);
    expect(late.every(([at]) => at >= 60_000 && at < 60_000 + BACKGROUND_SPREAD_MS)).toBe(true);
    expect(replay.pending).toBe(0);
  });

  it('draws a fractional number of copies so that the mean is exact', () => {
    const replay = new BackgroundReplay(1.25, new SeededRandom(7));
    const requests = 20_000;
    for (let i = 0; i < requests; i++) replay.echo(i, 1);
    const copiesPerRequest = replay.pending / requests;
    expect(copiesPerRequest).toBeGreaterThan(1.23);
    expect(copiesPerRequest).toBeLessThan(1.27);
  });

  it('refuses a negative or non-finite number of copies, and a spread the ring cannot hold', () => {
    expect(() => new BackgroundReplay(-1, new SeededRandom(1))).toThrow(/finite number >= 0/);
    expect(() => new BackgroundReplay(Number.POSITIVE_INFINITY, new SeededRandom(1))).toThrow(/finite number >= 0/);
    expect(() => new BackgroundReplay(1, new SeededRandom(1), 0)).toThrow(/background spread/);
    expect(() => new BackgroundReplay(1, new SeededRandom(1), 10_000)).toThrow(/background spread/);
  });

  it('drops copies due during an outage and all of a crashed process\'s copies', () => {
    const replay = new BackgroundReplay(4, new SeededRandom(2), 100);
    replay.echo(0, 1);
    replay.discardUntil(1_000);
    expect(replay.pending).toBe(0);
    expect(replay.served).toBe(4); // counted as gone through, never handed to a server
    replay.echo(2_000, 1);
    replay.clear();
    expect(drained(replay, 10_000)).toEqual([]);
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
      ...(copies > 0 ? { background: { replay: new BackgroundReplay(copies, draws, 50), serviceTimeMs: () => 1 } } : {}),
    });
    let totalMs = 0;
    for (let i = 0; i < requests; i++) {
      time.schedule(i * gapMs, () => {
        const sentAt = time.nowMs();
        void tier.call(async () => undefined).then(() => {
          totalMs += time.nowMs() - sentAt;
        });
      });
    }
    await time.run(requests * gapMs + 60_000);
    return { meanMs: totalMs / requests, busyMs: tier.stats.busyMs };
  }

  it('makes a tier as busy as the whole deployment: the cell\'s requests wait behind the background', async () => {
    // Alone, the cell keeps the one server 20 % busy (1 ms of work every 5 ms) and never waits
    // beyond its own service time plus the tick. With three copies of background the server is
    // 80 % busy, and the cell's requests queue.
    const alone = await meanAnswerMs(0, 2_000, 5);
    const withBackground = await meanAnswerMs(3, 2_000, 5);
    expect(alone.meanMs).toBeLessThanOrEqual(2);
    expect(withBackground.meanMs).toBeGreaterThan(alone.meanMs + 0.5);
    // The server did the background's work too: about four times the cell's own (the copies still
    // due after the last request, within its 50 ms spread, are not served).
    expect(withBackground.busyMs).toBeGreaterThan(3.9 * alone.busyMs);
    expect(withBackground.busyMs).toBeLessThanOrEqual(4 * alone.busyMs);
  });

  it('makes a gateway CPU as busy as the whole deployment\'s gateway', async () => {
    const time = new Scheduler();
    const alone = new GatewayCpu(time, 1);
    const shared = new GatewayCpu(time, 1, new BackgroundReplay(4, new SeededRandom(5)));
    time.schedule(0, () => {
      for (let i = 0; i < 100; i++) {
        alone.reserve(0.1);
        shared.reserve(0.1);
      }
    });
    // Each job's copies are due within the spread after it: all are served by the time a job comes later.
    time.schedule(BACKGROUND_SPREAD_MS + 1, () => shared.reserve(0.1));
    await time.run(BACKGROUND_SPREAD_MS + 1);
    expect(alone.busyMs).toBeCloseTo(10, 6);
    expect(shared.busyMs).toBeCloseTo(101 * 0.1 + 100 * 4 * 0.1, 6);
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

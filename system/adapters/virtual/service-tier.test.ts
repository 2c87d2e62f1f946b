import { describe, expect, it } from 'vitest';
import { ServiceTier } from './service-tier.js';
import { Scheduler } from './scheduler.js';

/** A tier of one server, 10 ms per request, no network delay; 20 requests arrive at once, then one more at 150 ms. */
async function burst(dropQueuedAfterMs?: number) {
  const time = new Scheduler();
  const tier = new ServiceTier(time, {
    name: 'cassandra',
    oneWayLatencyMs: () => 0,
    serviceTimeMs: () => 10,
    concurrency: 1,
    timeoutMs: 100,
    ...(dropQueuedAfterMs !== undefined ? { dropQueuedAfterMs } : {}),
  });
  let applied = 0;
  const outcomes: string[] = [];
  const operation = async () => {
    applied++;
    return 'ok';
  };
  for (let i = 0; i < 20; i++)
    tier.call(operation).then(
      (v) => outcomes.push(v),
      (e: { code: string }) => outcomes.push(e.code),
    );
  let lateAnsweredAtMs = -1;
  time.schedule(150, () => {
    void tier.call(operation).then(() => (lateAnsweredAtMs = time.nowMs()));
  });
  await time.run(2_000);
  return { applied, outcomes, lateAnsweredAtMs, stats: tier.stats };
}

describe('a simulated tier under a burst it cannot serve in time', () => {
  it('throws away requests that waited longer than drop_queued_after_ms: unapplied, their callers time out, the servers stay free', async () => {
    const { applied, outcomes, lateAnsweredAtMs, stats } = await burst(50);
    // Waits of 0, 10, … 50 ms are served; the 14 that would have waited longer are thrown away.
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(6);
    expect(outcomes.filter((o) => o === 'STORAGE_UNAVAILABLE')).toHaveLength(14);
    expect(stats.dropped).toBe(14);
    expect(stats.timeouts).toBe(14);
    expect(applied).toBe(6 + 1);
    expect(stats.busyMs).toBe(70);
    // The thrown-away requests took no server time: the late request is served at once.
    expect(lateAnsweredAtMs).toBe(160);
  });

  it('without it, serves everything however long it waited: timed-out requests are still applied and delay the next', async () => {
    const { applied, outcomes, lateAnsweredAtMs, stats } = await burst();
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'STORAGE_UNAVAILABLE')).toHaveLength(10);
    expect(stats.dropped).toBe(0);
    expect(applied).toBe(21);
    expect(stats.busyMs).toBe(210);
    // It queued behind requests whose callers had given up.
    expect(lateAnsweredAtMs).toBe(210);
  });
});

describe("a simulated tier's queue over time", () => {
  it("reports each interval's peak, also when the burst drained before the interval ended", async () => {
    const time = new Scheduler();
    const tier = new ServiceTier(time, {
      name: 'cassandra',
      oneWayLatencyMs: () => 0,
      serviceTimeMs: () => 10,
      concurrency: 1,
      timeoutMs: 1_000,
    });
    const peaks: Array<{ atMs: number; instant: number; peak: number }> = [];
    const sample = () => {
      const instant = tier.stats.queued;
      peaks.push({ atMs: time.nowMs(), instant, peak: tier.takeIntervalQueuedPeak() });
    };
    for (let i = 0; i < 20; i++) void tier.call(async () => 'ok');
    time.schedule(500, sample);
    time.schedule(1_000, sample);
    await time.run(1_000);
    // 20 requests at once: 19 waited; all served within 200 ms, so the queue at 500 ms is empty.
    expect(peaks[0]).toEqual({ atMs: 500, instant: 0, peak: 19 });
    expect(peaks[1]).toEqual({ atMs: 1_000, instant: 0, peak: 0 });
    expect(tier.stats.queuedPeak).toBe(19);
  });
});

import { describe, expect, it } from 'vitest';
import { runOpenModelSchedule } from './schedule.js';

describe('open-model schedule', () => {
  it('schedules the integral of the rate, with rising scheduled times inside the phase', async () => {
    const times: number[] = [];
    // 200/s for 0.5 s = 100 messages, however the ticks fall (a constant rate integrates exactly).
    const result = await runOpenModelSchedule({ durationS: 0.5, ratePerSAt: () => 200, send: (at) => times.push(at) });
    expect(result.scheduled).toBe(times.length);
    expect(times.length).toBeGreaterThanOrEqual(99);
    expect(times.length).toBeLessThanOrEqual(100);
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
    expect(times[0]!).toBeGreaterThanOrEqual(result.startedAtMs);
    expect(times[times.length - 1]!).toBeLessThanOrEqual(result.startedAtMs + 500 + 1e-6);
  });

  it('stops early when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await runOpenModelSchedule({ durationS: 60, ratePerSAt: () => 10, send: () => undefined, signal: controller.signal });
    expect(result.endedAtMs - result.startedAtMs).toBeLessThan(60_000);
  });
});

import { nowEpochMs } from './measurements.js';

/** How often the schedule wakes to send what has come due (a send is never later than this). */
export const SCHEDULE_TICK_MS = 2;

export interface ScheduleOptions {
  /** Messages per second wanted at `atS` seconds into the phase (this process's share). */
  ratePerSAt(atS: number): number;
  durationS: number;
  /** Called for each message when due, with its scheduled time (epoch ms). */
  send(scheduledAtMs: number): void;
  signal?: AbortSignal;
}

/**
 * Open-model arrivals: the number of messages due by time t is the integral of the rate up to t,
 * and each gets a scheduled time on that curve. Sends go out when due whatever happened to the
 * earlier ones (no waiting for replies), and latency is measured from the scheduled time, so a
 * driver or system that falls behind shows it as latency (no coordinated omission).
 * Resolves with the number of messages scheduled.
 */
export async function runOpenModelSchedule(
  options: ScheduleOptions,
): Promise<{ scheduled: number; startedAtMs: number; endedAtMs: number }> {
  const startedAtMs = nowEpochMs();
  const endAtMs = startedAtMs + options.durationS * 1000;
  let integratedUpToMs = startedAtMs;
  let due = 0; // expected messages up to integratedUpToMs
  let scheduled = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = Math.min(nowEpochMs(), endAtMs);
      const spanMs = now - integratedUpToMs;
      if (spanMs > 0) {
        const midS = (integratedUpToMs + spanMs / 2 - startedAtMs) / 1000;
        const added = (options.ratePerSAt(midS) * spanMs) / 1000;
        // Message k (1-based) is due when the integral reaches k: spread them linearly over the span.
        while (scheduled + 1 <= due + added) {
          scheduled++;
          const at = added > 0 ? integratedUpToMs + ((scheduled - due) / added) * spanMs : now;
          options.send(at);
        }
        due += added;
        integratedUpToMs = now;
      }
      if (now >= endAtMs || options.signal?.aborted) resolve();
      else setTimeout(tick, SCHEDULE_TICK_MS);
    };
    tick();
  });
  return { scheduled, startedAtMs, endedAtMs: nowEpochMs() };
}

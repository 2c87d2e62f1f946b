import type { Clock, TimerHandle } from '../../ports/clock.js';

/** The live clock: wall time and real timers (unref'd so they never keep a process alive). */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

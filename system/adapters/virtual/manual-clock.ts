import type { Clock, TimerHandle } from '../../ports/clock.js';

interface PendingTimer {
  atMs: number;
  order: number;
  callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to. Tests use it instead of sleeping on real timers:
 * `advance(60_000)` runs every timer due in the next minute, in time order.
 */
export class ManualClock implements Clock {
  private currentMs: number;
  private order = 0;
  private timers: PendingTimer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer: PendingTimer = { atMs: this.currentMs + Math.max(0, delayMs), order: this.order++, callback, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  /** Moves time forward, firing due timers in order; awaits microtasks between them. */
  async advance(deltaMs: number): Promise<void> {
    const targetMs = this.currentMs + deltaMs;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      this.timers.sort((a, b) => a.atMs - b.atMs || a.order - b.order);
      const next = this.timers[0];
      if (!next || next.atMs > targetMs) break;
      this.timers.shift();
      this.currentMs = next.atMs;
      next.callback();
      await flushMicrotasks();
    }
    this.currentMs = targetMs;
    await flushMicrotasks();
  }

  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
}

/** Lets every pending promise chain settle (setImmediate runs after the microtask queue drains). */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

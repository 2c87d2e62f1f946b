import type { Clock, TimerHandle } from '../system/ports/clock.js';

/**
 * Wall time and real timers. Timers are unref'd so an idle client (heartbeat, reconnect backoff)
 * never keeps a process alive on its own: tests and load runs end when their work ends. The flip
 * side: a script whose only pending work is a client waiting to reconnect will exit; pass
 * `new RealClock({ unref: false })` if that is not what you want.
 */
export class RealClock implements Clock {
  private readonly unref: boolean;

  constructor(options: { unref?: boolean } = {}) {
    this.unref = options.unref ?? true;
  }

  nowMs(): number {
    return Date.now();
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    if (this.unref) timer.unref();
    return { cancel: () => clearTimeout(timer) };
  }
}

export const realClock: Clock = new RealClock();

import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { SimTime } from './sim-time.js';

/**
 * The Clock port on simulated time, for one process incarnation (a gateway, or the shared
 * stores). `kill()` models kill -9: timers the process had set never fire afterwards, since the
 * process that set them is gone. `epochMs` makes nowMs() look like wall-clock milliseconds.
 */
export class SimClock implements Clock {
  private alive = true;

  constructor(
    private readonly time: SimTime,
    private readonly epochMs = 1_700_000_000_000,
  ) {}

  nowMs(): number {
    return this.epochMs + this.time.nowMs();
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer = new SimTimer(this, callback);
    this.time.schedule(delayMs, timer);
    return timer;
  }

  get isAlive(): boolean {
    return this.alive;
  }

  kill(): void {
    this.alive = false;
  }
}

/** One pending timer: its own handle and its own scheduler task (no closures per timer). */
class SimTimer implements TimerHandle {
  private cancelled = false;

  constructor(
    private readonly clock: SimClock,
    private readonly callback: () => void,
  ) {}

  cancel(): void {
    this.cancelled = true;
  }

  run(): void {
    if (!this.cancelled && this.clock.isAlive) this.callback();
  }
}

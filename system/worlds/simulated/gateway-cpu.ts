import type { BackgroundLoad } from '../../adapters/virtual/background-load.js';
import type { SimTime } from '../../adapters/virtual/sim-time.js';

/** The scheduler's view the CPU needs: virtual time and its resolution. */
export type TickedTime = SimTime & { readonly tickMs: number };

/**
 * A gateway process's CPU as a service-time queue: each frame in and out costs CPU time, served
 * FIFO by `cores` servers (a Node process runs its JavaScript on one). When work arrives faster
 * than it is served, it waits: overload shows up as queueing delay, as on a real machine.
 */
export class GatewayCpu {
  private readonly freeAtMs: Float64Array;
  private pausedUntilMs = 0;
  busyMs = 0;
  jobs = 0;
  /** Highest wait for a core seen (ms), for the report. */
  waitPeakMs = 0;
  /** Highest wait since the last takeIntervalWaitPeakMs() (ms), for a time series of peaks. */
  private intervalWaitPeakMs = 0;

  constructor(
    private readonly time: TickedTime,
    cores: number,
    /** In a cell run, the frames of the other cells' connections on this gateway. */
    private readonly background?: BackgroundLoad,
  ) {
    this.freeAtMs = new Float64Array(Math.max(1, Math.floor(cores)));
  }

  /** When a job of `costMs` submitted now would finish; reserves the core. */
  reserve(costMs: number): number {
    const now = this.time.nowMs();
    if (this.background) {
      this.background.drainUntil(now, this.occupy);
      this.background.echo(now, costMs);
    }
    const startAt = this.occupy(now, costMs);
    this.jobs++;
    const wait = startAt - now;
    if (wait > this.waitPeakMs) this.waitPeakMs = wait;
    if (wait > this.intervalWaitPeakMs) this.intervalWaitPeakMs = wait;
    return startAt + costMs;
  }

  /** The highest wait for a core since the previous call (ms), and a fresh interval from now. */
  takeIntervalWaitPeakMs(): number {
    const peak = this.intervalWaitPeakMs;
    this.intervalWaitPeakMs = 0;
    return peak;
  }

  /** The core that frees up first takes a job arriving at `atMs`; returns when it starts. */
  private readonly occupy = (atMs: number, costMs: number): number => {
    const free = this.freeAtMs;
    let core = 0;
    for (let i = 1; i < free.length; i++) if (free[i]! < free[core]!) core = i;
    const startAt = Math.max(atMs, free[core]!, this.pausedUntilMs);
    free[core] = startAt + costMs;
    this.busyMs += costMs;
    return startAt;
  };

  /**
   * Runs `job` after its CPU time (and any queue ahead of it). A job done within half a tick of
   * now runs now: the scheduler would round its few microseconds up to a whole tick (1 ms) and
   * spend an event on it; a job behind a queue waits for its turn as before.
   */
  run(costMs: number, job: () => void): void {
    const now = this.time.nowMs();
    const doneAt = this.reserve(costMs);
    if (doneAt - now <= this.time.tickMs / 2) job();
    else this.time.schedule(doneAt - now, () => this.runUnlessPaused(job));
  }

  /** A job due while the process is paused (a pause that began or grew after it was queued) waits for the end of the pause. */
  private runUnlessPaused(job: () => void): void {
    const waitMs = this.pausedUntilMs - this.time.nowMs();
    if (waitMs > 0) this.time.schedule(waitMs, () => this.runUnlessPaused(job));
    else job();
  }

  /** Queue length in time: how far ahead the busiest core is booked (ms). */
  backlogMs(): number {
    const now = this.time.nowMs();
    let worst = 0;
    for (const f of this.freeAtMs) worst = Math.max(worst, f - now);
    return worst;
  }

  /** SIGSTOP: nothing is served until `untilMs` (virtual). */
  pauseUntil(untilMs: number): void {
    this.pausedUntilMs = Math.max(this.pausedUntilMs, untilMs);
    for (let i = 0; i < this.freeAtMs.length; i++) this.freeAtMs[i] = Math.max(this.freeAtMs[i]!, untilMs);
  }

  /** A restarted process starts with an idle CPU. */
  reset(): void {
    this.freeAtMs.fill(0);
    this.pausedUntilMs = 0;
    this.background?.clear();
  }
}

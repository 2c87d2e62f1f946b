import type { Scheduler } from '../../system/adapters/virtual/scheduler.js';

/** What runSimulation tells its caller about once per wall-clock second. */
export interface SimProgress {
  simulatedS: number;
  totalS: number;
  phase: 'safety' | 'liveness';
  events: number;
  eventsPerS: number;
  wallS: number;
}

/**
 * Progress of the running clock, told about once per wall-clock second, and the peak heap seen on
 * the way. Rates count from the start of the load (when this is made): the set-up is not simulated time.
 */
export class RunProgress {
  phase: SimProgress['phase'] = 'safety';
  readonly loadWallStartMs = performance.now();
  readonly loadEventsStart: number;
  private heapPeak = process.memoryUsage().heapUsed;
  private lastProgressWallMs = performance.now();

  constructor(
    private readonly time: Scheduler,
    private readonly startMs: number,
    private readonly totalS: number,
    private readonly onProgress: ((p: SimProgress) => void) | undefined,
  ) {
    this.loadEventsStart = time.eventsRun;
  }

  /** The scheduler's per-instant hook. */
  readonly onInstant = (): void => {
    const now = performance.now();
    if (now - this.lastProgressWallMs < 1_000) return;
    this.lastProgressWallMs = now;
    this.noteHeap();
    const wallS = (now - this.loadWallStartMs) / 1000;
    const events = this.time.eventsRun - this.loadEventsStart;
    this.onProgress?.({
      simulatedS: (this.time.nowMs() - this.startMs) / 1000,
      totalS: this.totalS,
      phase: this.phase,
      events,
      eventsPerS: events / wallS,
      wallS,
    });
  };

  /** The peak heap so far, now included. */
  heapPeakBytes(): number {
    this.noteHeap();
    return this.heapPeak;
  }

  private noteHeap(): void {
    const heap = process.memoryUsage().heapUsed;
    if (heap > this.heapPeak) this.heapPeak = heap;
  }
}

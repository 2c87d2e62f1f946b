import type { LoadProgress } from '../types.js';

/** The phase the run is in (progress and samples report it); entering one tells the caller (`onPhase`). */
export class RunPhase {
  current: LoadProgress['phase'] = 'setup';

  constructor(private readonly onPhase: ((phase: LoadProgress['phase']) => void) | undefined) {}

  enter(next: LoadProgress['phase']): void {
    this.current = next;
    this.onPhase?.(next);
  }
}

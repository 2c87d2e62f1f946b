/**
 * The simulator's virtual time as the simulated adapters see it: the current instant and a way
 * to run something later. The simulator's scheduler implements it; adapters never read real time.
 */
export interface SimTime {
  /** Milliseconds since the run started (virtual). */
  nowMs(): number;
  /** Runs `task` `delayMs` from now (0 = later in the same instant), in time order, ties in call order. */
  schedule(delayMs: number, task: () => void): void;
}

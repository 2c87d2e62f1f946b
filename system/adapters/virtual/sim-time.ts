/**
 * The simulator's virtual time as the simulated adapters see it: the current instant and a way
 * to run something later. The simulator's scheduler implements it; adapters never read real time.
 */
/**
 * Something to run later: a function, or an object whose run() is called. An object that is its
 * own task (a timer that is also its handle) saves the closure and its context per pending task,
 * which adds up with hundreds of thousands of connections each holding a few timers.
 */
export type SimTask = (() => void) | { run(): void };

export interface SimTime {
  /** Milliseconds since the run started (virtual). */
  nowMs(): number;
  /** Runs `task` `delayMs` from now (0 = later in the same instant), in time order, ties in call order. */
  schedule(delayMs: number, task: SimTask): void;
}

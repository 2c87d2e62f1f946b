/** Time for core code. Live worlds read the system clock; the simulator and tests drive a virtual one. */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch (virtual in the simulator). */
  nowMs(): number;
  /** Runs `callback` once after `delayMs`; cancel() before then prevents it. */
  setTimer(delayMs: number, callback: () => void): TimerHandle;
}

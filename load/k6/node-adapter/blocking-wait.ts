/** Blocks this thread, as k6's sleep() blocks a VU: other threads (the embedded server's) run on. */
export function blockFor(ms: number): void {
  if (ms <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

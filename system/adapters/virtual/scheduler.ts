import { HeldWorkQueue, type RealTimeWorkGate } from './held-token-authority.js';
import type { SimTask, SimTime } from './sim-time.js';

/**
 * The simulator's event scheduler and virtual clock: a binary heap of tasks ordered by
 * (instant, insertion order). Time is quantised to `tickMs` (1 ms by default): every task of one
 * instant runs back to back, and only then are pending promise continuations drained (one
 * setImmediate turn), so the cost of draining the microtask queue is paid once per instant rather
 * than once per event (simulator/README.md, "How it works"). Same seed, same tasks, same order: the run is deterministic.
 *
 * Work that completes in real time (token signing and checking run on WebCrypto's thread pool) is
 * held (hold()): the instant does not end until all of it has finished, and the outcomes are then
 * released in the order the work was started, so the thread pool's timing never shows in a run.
 */
export class Scheduler implements SimTime, RealTimeWorkGate {
  private readonly heapAt: number[] = [];
  private readonly heapOrder: number[] = [];
  private readonly heapTask: SimTask[] = [];
  private orderCounter = 0;
  private currentMs = 0;
  private stopped = false;
  private running = false;
  private readonly held = new HeldWorkQueue();
  /** Tasks run so far (the "events" of the run summary). */
  eventsRun = 0;
  /** Distinct instants processed. */
  instantsRun = 0;

  constructor(readonly tickMs = 1) {
    if (!(tickMs > 0)) throw new Error(`tickMs must be positive, got ${tickMs}`);
  }

  nowMs(): number {
    return this.currentMs;
  }

  get pending(): number {
    return this.heapAt.length;
  }

  /** The instant of the earliest pending task, or undefined when none. */
  get nextAtMs(): number | undefined {
    return this.heapAt[0];
  }

  schedule(delayMs: number, task: SimTask): void {
    const wanted = this.currentMs + (delayMs > 0 ? delayMs : 0);
    // Round up to the tick: a task never runs before its time.
    const at = delayMs > 0 ? Math.ceil(wanted / this.tickMs - 1e-9) * this.tickMs : this.currentMs;
    this.push(at, task);
  }

  /** Schedules at an absolute instant (rounded up to the tick; never in the past). */
  scheduleAt(atMs: number, task: SimTask): void {
    this.schedule(atMs - this.currentMs, task);
  }

  /**
   * The outcome of real-time work, released before the current instant ends and in call order.
   * Outside run() nothing moves in virtual time, so the work is simply awaited.
   */
  hold<T>(work: Promise<T>): Promise<T> {
    if (!this.running) return work;
    return this.held.hold(work);
  }

  /** Stops run() after the current instant. */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Runs tasks in time order until the next one is after `untilMs` (or stop()), then sets the
   * clock to `untilMs`. `onInstant` runs after each instant (progress display, sampling).
   */
  async run(untilMs: number, onInstant?: (nowMs: number) => void): Promise<void> {
    this.stopped = false;
    this.running = true;
    try {
      await this.runInstants(untilMs, onInstant);
    } finally {
      this.running = false;
    }
    if (!this.stopped && untilMs > this.currentMs) this.currentMs = untilMs;
  }

  private async runInstants(untilMs: number, onInstant?: (nowMs: number) => void): Promise<void> {
    while (!this.stopped && this.heapAt.length > 0 && this.heapAt[0]! <= untilMs) {
      const at = this.heapAt[0]!;
      this.currentMs = at;
      do {
        while (this.heapAt.length > 0 && this.heapAt[0] === at) {
          const task = this.pop();
          this.eventsRun++;
          if (typeof task === 'function') task();
          else task.run();
        }
        // Continuations of promises settled by this instant's tasks run now, still at `at`.
        await drainMicrotasks();
        await this.held.release();
      } while (this.heapAt.length > 0 && this.heapAt[0] === at);
      this.instantsRun++;
      onInstant?.(at);
    }
  }

  private push(at: number, task: SimTask): void {
    const order = this.orderCounter++;
    const at_ = this.heapAt;
    const ord = this.heapOrder;
    const tasks = this.heapTask;
    let i = at_.length;
    at_.push(at);
    ord.push(order);
    tasks.push(task);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pa = at_[parent]!;
      if (pa < at || (pa === at && ord[parent]! < order)) break;
      at_[i] = pa;
      ord[i] = ord[parent]!;
      tasks[i] = tasks[parent]!;
      i = parent;
    }
    at_[i] = at;
    ord[i] = order;
    tasks[i] = task;
  }

  private pop(): SimTask {
    const at_ = this.heapAt;
    const ord = this.heapOrder;
    const tasks = this.heapTask;
    const top = tasks[0]!;
    const lastAt = at_.pop()!;
    const lastOrder = ord.pop()!;
    const lastTask = tasks.pop()!;
    const n = at_.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && (at_[right]! < at_[left]! || (at_[right] === at_[left] && ord[right]! < ord[left]!))) child = right;
      const ca = at_[child]!;
      if (ca > lastAt || (ca === lastAt && ord[child]! > lastOrder)) break;
      at_[i] = ca;
      ord[i] = ord[child]!;
      tasks[i] = tasks[child]!;
      i = child;
    }
    at_[i] = lastAt;
    ord[i] = lastOrder;
    tasks[i] = lastTask;
    return top;
  }
}

/** setImmediate runs after the microtask queue is empty: every settled promise chain has moved on. */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

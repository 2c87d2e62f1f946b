import { ChatError } from '../../core/errors.js';
import type { BackgroundLoad } from './background-load.js';
import type { SimTime } from './sim-time.js';

/**
 * Puts `value` at the root of the binary min-heap `heap[0..size)` and sifts it down (O(log n)):
 * replaces the smallest value, or, with the last element as `value` and size one less, pops it.
 */
function siftDown(heap: Float64Array, size: number, value: number): void {
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= size) break;
    const right = left + 1;
    const child = right < size && heap[right]! < heap[left]! ? right : left;
    if (heap[child]! >= value) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = value;
}

/** What serve() returns for a request thrown away in the queue. */
const DROPPED = -1;

/** A draw of one network crossing (ms); the simulator supplies it from the scenario's distribution. */
export type LatencySampler = () => number;

export interface ServiceTierModel {
  /** Name in reports and errors: cassandra, redis, s3, push. */
  name: string;
  /** One-way network latency between a gateway and this tier. */
  oneWayLatencyMs: LatencySampler;
  /** Service time of one request at the tier (ms), drawn per request. */
  serviceTimeMs: () => number;
  /** Requests the tier works on at once (nodes × cores): beyond that they queue. */
  concurrency: number;
  /** The caller gives up after this long and gets a retryable STORAGE_UNAVAILABLE. */
  timeoutMs: number;
  /**
   * The tier throws away, unprocessed, a request that waited longer than this in its queue, as
   * Cassandra drops a mutation or read older than its request timeout ("dropped messages"): it
   * takes no server time and is not applied; its caller times out. Absent: every request is
   * served however long it waited (Redis). Without it, an overload outlives its cause: servers
   * spend their time on requests whose callers gave up long ago while the retries queue behind.
   */
  dropQueuedAfterMs?: number;
  /** In a cell run, the other cells' requests to the same servers (service times from their own draws). */
  background?: { load: BackgroundLoad; serviceTimeMs: () => number };
}

export interface TierStats {
  requests: number;
  timeouts: number;
  /** The cell's requests the tier threw away after waiting longer than dropQueuedAfterMs. */
  dropped: number;
  /** Sum of service time over the run (ms), for utilisation. */
  busyMs: number;
  /** Requests waiting for a server right now. */
  queued: number;
  /** Highest `queued` seen. */
  queuedPeak: number;
}

/**
 * A backing service as the gateways see it: a network link with a latency distribution, a
 * finite number of servers (so overload shows up as queueing, then timeouts), a caller-side
 * timeout, and the faults of the scenario vocabulary — an outage (no answers), a partition of the
 * link (same, seen from the gateway) and extra latency. The operation itself runs on the wrapped
 * in-memory store when the request reaches the front of the queue, so the data is the real
 * adapters' data; only time and failure are simulated.
 */
export class ServiceTier {
  private readonly serverFreeAtMs: Float64Array;
  /**
   * Start times of the cell's requests still waiting for a server, as a min-heap: the queue length
   * is read by dropping the ones whose start has passed, so waiting costs no scheduler event.
   */
  private readonly waitingStartsMs = new MinHeap();
  /**
   * Requests in the queue per cell request in it: 1 + background copies. The queue is FIFO over
   * cell and background requests alike, so the cell's share of it is its share of the arrivals;
   * counting the cell's waiting requests and scaling spares a heap entry per background request.
   */
  private readonly queueScale: number;
  private down = false;
  private partitioned = false;
  private extraLatencyMs = 0;
  private counts = { requests: 0, timeouts: 0, dropped: 0, busyMs: 0, queuedPeak: 0 };
  /** Highest `queued` since the last takeIntervalQueuedPeak(), for a time series of peaks. */
  private intervalQueuedPeak = 0;
  /** Requests and timeouts per operation (e.g. inbox.enqueueMany): what the tier's load is made of. */
  private byOperation = new Map<string, { requests: number; timeouts: number }>();

  constructor(
    private readonly time: SimTime,
    readonly model: ServiceTierModel,
  ) {
    if (!(model.concurrency >= 1)) throw new Error(`${model.name}: concurrency must be at least 1`);
    this.serverFreeAtMs = new Float64Array(Math.floor(model.concurrency));
    this.queueScale = 1 + (model.background?.load.copies ?? 0);
  }

  /** The tier's counts; `queued` is the number waiting for a server now (estimated from the cell's in a cell run). */
  get stats(): TierStats {
    return { ...this.counts, queued: this.queuedNow() };
  }

  /**
   * The highest queue length since the previous call (or the start), and a fresh interval from
   * now. A time series sampled at interval ends would show the queue at one instant and miss a
   * burst in between; this is the peak the run-wide `queuedPeak` is the maximum of.
   */
  takeIntervalQueuedPeak(): number {
    const now = this.queuedNow();
    const peak = Math.max(this.intervalQueuedPeak, now);
    this.intervalQueuedPeak = now;
    return peak;
  }

  /** Requests and timeouts per operation, busiest first. */
  get operations(): Array<{ operation: string; requests: number; timeouts: number }> {
    return [...this.byOperation].map(([operation, c]) => ({ operation, ...c })).sort((a, b) => b.requests - a.requests);
  }

  /** Starts the counts afresh (after a set-up phase that should not count). */
  resetStats(): void {
    const queued = this.queuedNow();
    this.counts = { requests: 0, timeouts: 0, dropped: 0, busyMs: 0, queuedPeak: queued };
    this.intervalQueuedPeak = queued;
    this.byOperation = new Map();
  }

  private queuedNow(): number {
    const now = this.time.nowMs();
    const waiting = this.waitingStartsMs;
    while (waiting.size > 0 && waiting.min() <= now) waiting.pop();
    return Math.round(waiting.size * this.queueScale);
  }

  get name(): string {
    return this.model.name;
  }

  /** True while callers get answers (no outage, no partition). */
  get isAvailable(): boolean {
    return !this.down && !this.partitioned;
  }

  setDown(down: boolean): void {
    this.down = down;
  }

  setPartitioned(partitioned: boolean): void {
    this.partitioned = partitioned;
  }

  setExtraLatencyMs(ms: number): void {
    this.extraLatencyMs = ms;
  }

  /**
   * Runs `operation` at the tier and answers after the network and queueing delays. `callerAlive`
   * is asked when the answer arrives: a crashed gateway never sees it (and a write it sent may
   * still have been applied, as with a real store). One scheduler event per request: the answer
   * (or the caller's timeout). `requestCount` > 1 is a batch the caller sends at once (a Redis
   * pipeline, concurrent Cassandra writes): each request takes its own server and service time,
   * they share one round trip, and the answer comes when the last is served. `label` names the
   * operation in the per-operation counts.
   */
  call<T>(operation: () => Promise<T>, callerAlive?: () => boolean, requestCount = 1, label = 'other'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const { model, time, counts } = this;
      counts.requests += requestCount;
      let perOperation = this.byOperation.get(label);
      if (!perOperation) this.byOperation.set(label, (perOperation = { requests: 0, timeouts: 0 }));
      perOperation.requests += requestCount;
      const sentAt = time.nowMs();
      if (!this.isAvailable) {
        model.background?.load.discardUntil(sentAt);
        this.timeOut(sentAt, reject, callerAlive, perOperation);
        return;
      }
      const arriveAt = sentAt + model.oneWayLatencyMs() + this.extraLatencyMs;
      const background = model.background;
      if (background) {
        background.load.drainUntil(arriveAt, this.serveBackground);
        background.load.echo(arriveAt, requestCount);
      }
      let doneAt = arriveAt;
      let dropped = false;
      for (let i = 0; i < requestCount; i++) {
        const done = this.serve(arriveAt, model.serviceTimeMs());
        if (done === DROPPED) dropped = true;
        else doneAt = Math.max(doneAt, done);
      }
      if (dropped) {
        // Thrown away in the queue (the whole batch, for simplicity: the caller retries it all).
        this.timeOut(sentAt, reject, callerAlive, perOperation);
        return;
      }
      const answerAt = doneAt + model.oneWayLatencyMs() + this.extraLatencyMs;
      if (answerAt - sentAt > model.timeoutMs) {
        // Too slow: the caller gives up first; the operation still runs at the tier (a timed-out
        // write may have been applied — exactly what idempotent retries are for).
        time.schedule(doneAt - sentAt, () => {
          if (this.isAvailable) void operation().catch(() => undefined);
        });
        this.timeOut(sentAt, reject, callerAlive, perOperation);
        return;
      }
      time.schedule(answerAt - sentAt, () => {
        if (!this.isAvailable) {
          // The tier went down while the request was in flight: no answer comes.
          this.timeOut(sentAt, reject, callerAlive, perOperation);
          return;
        }
        const result = operation();
        if (callerAlive && !callerAlive()) {
          void result.catch(() => undefined);
          return;
        }
        result.then(resolve, reject);
      });
    });
  }

  /**
   * One request arriving at `arriveAt`: the server that frees up first takes it (FIFO across the
   * tier, the root of a min-heap). Returns when it is done, or DROPPED when it would have waited
   * longer than dropQueuedAfterMs (it then takes no server). No scheduler event: waiting is
   * arithmetic. Only the cell's waiting requests are tracked (see queueScale).
   */
  private serve(arriveAt: number, serviceMs: number, background = false): number {
    const free = this.serverFreeAtMs;
    const startAt = Math.max(arriveAt, free[0]!);
    const dropAfter = this.model.dropQueuedAfterMs;
    if (dropAfter !== undefined && startAt - arriveAt > dropAfter) {
      if (!background) this.counts.dropped++;
      return DROPPED;
    }
    const doneAt = startAt + serviceMs;
    siftDown(free, free.length, doneAt);
    this.counts.busyMs += serviceMs;
    if (startAt > arriveAt && !background) {
      this.waitingStartsMs.push(startAt);
      const queued = this.queuedNow();
      if (queued > this.counts.queuedPeak) this.counts.queuedPeak = queued;
      if (queued > this.intervalQueuedPeak) this.intervalQueuedPeak = queued;
    }
    return doneAt;
  }

  /** Background requests take servers like the cell's own (no answer goes anywhere). */
  private readonly serveBackground = (atMs: number, requests: number): void => {
    const draw = this.model.background!.serviceTimeMs;
    for (let i = 0; i < requests; i++) this.serve(atMs, draw(), true);
  };

  /** The caller gives up `timeoutMs` after sending: a retryable STORAGE_UNAVAILABLE. */
  private timeOut(
    sentAt: number,
    reject: (error: unknown) => void,
    callerAlive: (() => boolean) | undefined,
    perOperation: { timeouts: number },
  ): void {
    const { model, time } = this;
    this.counts.timeouts++;
    perOperation.timeouts++;
    time.schedule(sentAt + model.timeoutMs - time.nowMs(), () => {
      if (callerAlive && !callerAlive()) return;
      reject(new ChatError('STORAGE_UNAVAILABLE', `${model.name} did not answer within ${model.timeoutMs} ms`));
    });
  }
}

/** A growable binary min-heap of numbers. */
class MinHeap {
  private items = new Float64Array(64);
  size = 0;

  min(): number {
    return this.items[0]!;
  }

  push(value: number): void {
    if (this.size === this.items.length) {
      const grown = new Float64Array(this.items.length * 2);
      grown.set(this.items);
      this.items = grown;
    }
    const heap = this.items;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= value) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = value;
  }

  pop(): void {
    const last = this.items[--this.size]!;
    if (this.size > 0) siftDown(this.items, this.size, last);
  }
}

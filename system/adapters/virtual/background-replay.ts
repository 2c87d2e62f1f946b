/** A uniform source in [0, 1) (the run's seeded streams). */
export interface UniformSource {
  nextFloat(): number;
}

/**
 * The default of how far after a cell's request its background copies may arrive (ms; the
 * scenario's sim.cell_background_spread_ms). The copies stand for the other cells' requests,
 * which are independent of this one: spread too little, the copies of one rare big request (a
 * 256-member group's fan-out) land together and make a burst the whole deployment would not see
 * (measured: at 99 copies within 50 ms, peak-hour's p99 doubled). Spread over a second, they
 * interleave with the copies of many other requests, while what all cells share — the rate
 * curve, a spike, a crashed gateway's reconnect storm — still shows, smoothed over that second.
 */
export const BACKGROUND_SPREAD_MS = 1_000;

/**
 * Background arrivals are kept in one bucket per virtual millisecond, in a ring this many ms long
 * (a power of two): a copy lands at most the spread (≤ 1 s by default) after a request that
 * arrives a network latency after now, so the ring is nearly always enough; a copy beyond it (a request
 * held up by a long injected latency) waits in an overflow list until the ring reaches it.
 */
const RING_MS = 4_096;
/** How often (ms of the ring's progress) far copies are moved into the ring; far below RING_MS. */
const OVERFLOW_CHECK_MS = 256;

/**
 * The rest of the population's load on one pool of servers, for a cell run (DESIGN §5: a sample
 * of the population with its share of the infrastructure). The cell runs on the whole
 * deployment's servers, and every request it sends is echoed `copies` times as background work
 * from the other cells, each copy shifted by a random delay within the spread. So every
 * server sees the whole deployment's utilisation, burst shape and queueing, while only the cell's
 * own requests run the real code and are checked. The copies carry the request's size (requests
 * of a batch, or CPU milliseconds); the pool decides what serving one means.
 *
 * Background work costs no scheduler event: its arrivals wait in per-millisecond buckets until
 * the pool's next real request, which first serves (`drainUntil`) everything due by then, in
 * time order at the simulator's 1 ms resolution (each copy is served at its own arrival time).
 */
export class BackgroundReplay {
  private readonly whole: number;
  private readonly fraction: number;
  /*
   * Pending copies live in a pool of nodes (typed arrays, grown by doubling; nothing allocated
   * per copy, which matters at tens of copies per request). The copies of ms m (m ≥ cursorMs)
   * form a singly linked list from head[m % RING_MS] to tail[…]; a drained list returns its
   * nodes to the free list.
   */
  private nodeAtMs = new Float64Array(1_024);
  private nodeAmount = new Float64Array(1_024);
  private nodeNext = new Int32Array(1_024);
  private freeNode = 0;
  private readonly head = new Int32Array(RING_MS).fill(-1);
  private readonly tail = new Int32Array(RING_MS).fill(-1);
  /** Every bucket before this ms has been drained. */
  private cursorMs = 0;
  /** Copies too far ahead for the ring, as [atMs, amount] pairs. */
  private overflow: number[] = [];
  private count = 0;
  /** Background arrivals served so far. */
  served = 0;

  constructor(
    /** Copies per cell request: population ÷ cell − 1 (a fraction is drawn per request). */
    readonly copies: number,
    private readonly random: UniformSource,
    /** Copies arrive uniformly within this long after the request (ms). */
    readonly spreadMs = BACKGROUND_SPREAD_MS,
  ) {
    if (!(copies >= 0) || !Number.isFinite(copies)) throw new Error(`background copies must be a finite number >= 0, got ${copies}`);
    if (!(spreadMs > 0) || spreadMs >= RING_MS - OVERFLOW_CHECK_MS) throw new Error(`background spread must be in (0, ${RING_MS - OVERFLOW_CHECK_MS}) ms, got ${spreadMs}`);
    this.whole = Math.floor(copies);
    this.fraction = copies - this.whole;
    this.linkFreeNodes(0);
  }

  get pending(): number {
    return this.count;
  }

  /** The cell sent work of `amount` arriving at `atMs`: its background copies arrive shortly after. */
  echo(atMs: number, amount: number): void {
    // With nothing pending every bucket is empty, so the ring may start at this request's ms
    // (no copy comes before it): an idle stretch is never stepped through.
    if (this.count === 0) this.cursorMs = Math.max(this.cursorMs, Math.floor(atMs));
    let n = this.whole;
    if (this.fraction > 0 && this.random.nextFloat() < this.fraction) n++;
    for (let i = 0; i < n; i++) this.add(atMs + this.random.nextFloat() * this.spreadMs, amount);
  }

  /** Hands every background arrival due by `untilMs` (to the ms) to `serve`, in time order. */
  drainUntil(untilMs: number, serve: (atMs: number, amount: number) => void): void {
    const lastMs = Math.floor(untilMs);
    while (this.cursorMs <= lastMs) {
      if (this.count === 0) {
        this.cursorMs = lastMs + 1;
        return;
      }
      if (this.overflow.length > 0) {
        if (this.count === this.overflow.length / 2) {
          // Only far copies are left: jump to the earliest of them rather than step through empty ms.
          let earliest = Infinity;
          for (let i = 0; i < this.overflow.length; i += 2) earliest = Math.min(earliest, this.overflow[i]!);
          this.cursorMs = Math.min(lastMs + 1, Math.max(this.cursorMs, Math.floor(earliest)));
          this.admitOverflow();
          continue;
        }
        // Every OVERFLOW_CHECK_MS is enough: a far copy enters the ring RING_MS before its time.
        if ((this.cursorMs & (OVERFLOW_CHECK_MS - 1)) === 0) this.admitOverflow();
      }
      const slot = this.cursorMs & (RING_MS - 1);
      let node = this.head[slot]!;
      if (node >= 0) {
        // Take the whole list first: serving never adds copies (only echo() does), but keep the
        // ring consistent whatever `serve` does.
        this.head[slot] = -1;
        this.tail[slot] = -1;
        while (node >= 0) {
          const next = this.nodeNext[node]!;
          const atMs = this.nodeAtMs[node]!;
          const amount = this.nodeAmount[node]!;
          this.nodeNext[node] = this.freeNode;
          this.freeNode = node;
          this.count--;
          this.served++;
          serve(atMs, amount);
          node = next;
        }
      }
      this.cursorMs++;
    }
  }

  /** Drops the copies due by `untilMs`: the servers were out, and the other cells' requests failed too. */
  discardUntil(untilMs: number): void {
    this.drainUntil(untilMs, () => undefined);
  }

  /** Drops every pending copy (a crashed process: the other cells' work on it is gone with it). */
  clear(): void {
    this.head.fill(-1);
    this.tail.fill(-1);
    this.overflow = [];
    this.count = 0;
    this.linkFreeNodes(0);
  }

  private add(atMs: number, amount: number): void {
    this.count++;
    const ms = Math.max(Math.floor(atMs), this.cursorMs);
    if (ms - this.cursorMs >= RING_MS) {
      this.overflow.push(atMs, amount);
      return;
    }
    if (this.freeNode < 0) this.growPool();
    const node = this.freeNode;
    this.freeNode = this.nodeNext[node]!;
    this.nodeAtMs[node] = atMs;
    this.nodeAmount[node] = amount;
    this.nodeNext[node] = -1;
    const slot = ms & (RING_MS - 1);
    const last = this.tail[slot]!;
    if (last >= 0) this.nodeNext[last] = node;
    else this.head[slot] = node;
    this.tail[slot] = node;
  }

  /** Doubles the node pool; the new nodes join the free list. */
  private growPool(): void {
    const size = this.nodeAtMs.length;
    const atMs = new Float64Array(size * 2);
    atMs.set(this.nodeAtMs);
    const amount = new Float64Array(size * 2);
    amount.set(this.nodeAmount);
    const next = new Int32Array(size * 2);
    next.set(this.nodeNext);
    this.nodeAtMs = atMs;
    this.nodeAmount = amount;
    this.nodeNext = next;
    this.linkFreeNodes(size);
  }

  /** Puts nodes [from, pool size) on the free list (all of them: the list is rebuilt). */
  private linkFreeNodes(from: number): void {
    const next = this.nodeNext;
    for (let i = from; i < next.length - 1; i++) next[i] = i + 1;
    next[next.length - 1] = -1;
    this.freeNode = from;
  }

  /** Moves overflow copies that the ring now reaches into their buckets. */
  private admitOverflow(): void {
    const keep: number[] = [];
    const over = this.overflow;
    this.overflow = [];
    for (let i = 0; i < over.length; i += 2) {
      const atMs = over[i]!;
      if (Math.floor(atMs) - this.cursorMs < RING_MS) {
        this.count--; // add() counts it again
        this.add(atMs, over[i + 1]!);
      } else keep.push(atMs, over[i + 1]!);
    }
    this.overflow = keep.concat(this.overflow);
  }
}

/** A uniform source in [0, 1) (the run's seeded streams). */
export interface UniformSource {
  nextFloat(): number;
}

/**
 * How far after a cell's request its background copies may arrive (ms). Short, so that bursts
 * keep their shape (the other cells' devices of a crashed gateway reconnect in the same instant
 * as the cell's own), yet long enough that the copies of one request do not all land on the same
 * millisecond: independent shifts of a Poisson stream are again a Poisson stream.
 */
export const BACKGROUND_SPREAD_MS = 50;

/**
 * The rest of the population's load on one pool of servers, for a cell run (DESIGN §5: a sample
 * of the population with its share of the infrastructure). The cell runs on the whole
 * deployment's servers, and every request it sends is echoed `copies` times as background work
 * from the other cells, each copy shifted by a random delay within BACKGROUND_SPREAD_MS. So every
 * server sees the whole deployment's utilisation, burst shape and queueing, while only the cell's
 * own requests run the real code and are checked. The copies carry the request's size (requests
 * of a batch, or CPU milliseconds); the pool decides what serving one means.
 *
 * Background work costs no scheduler event: its arrivals wait in a heap until the pool's next
 * real request, which first serves (`drainUntil`) everything due before it.
 */
export class BackgroundReplay {
  private readonly whole: number;
  private readonly fraction: number;
  private readonly atMs: number[] = [];
  private readonly amount: number[] = [];
  /** Background arrivals served so far. */
  served = 0;

  constructor(
    /** Copies per cell request: population ÷ cell − 1 (a fraction is drawn per request). */
    readonly copies: number,
    private readonly random: UniformSource,
  ) {
    if (!(copies >= 0) || !Number.isFinite(copies)) throw new Error(`background copies must be a finite number >= 0, got ${copies}`);
    this.whole = Math.floor(copies);
    this.fraction = copies - this.whole;
  }

  get pending(): number {
    return this.atMs.length;
  }

  /** The cell sent work of `amount` arriving at `atMs`: its background copies arrive shortly after. */
  echo(atMs: number, amount: number): void {
    let n = this.whole;
    if (this.fraction > 0 && this.random.nextFloat() < this.fraction) n++;
    for (let i = 0; i < n; i++) this.push(atMs + this.random.nextFloat() * BACKGROUND_SPREAD_MS, amount);
  }

  /** Hands every background arrival due by `untilMs` to `serve`, in time order. */
  drainUntil(untilMs: number, serve: (atMs: number, amount: number) => void): void {
    const at = this.atMs;
    while (at.length > 0 && at[0]! <= untilMs) {
      const arrival = at[0]!;
      const amount = this.amount[0]!;
      this.pop();
      this.served++;
      serve(arrival, amount);
    }
  }

  private push(atMs: number, amount: number): void {
    const at = this.atMs;
    const am = this.amount;
    let i = at.length;
    at.push(atMs);
    am.push(amount);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (at[parent]! <= atMs) break;
      at[i] = at[parent]!;
      am[i] = am[parent]!;
      i = parent;
    }
    at[i] = atMs;
    am[i] = amount;
  }

  private pop(): void {
    const at = this.atMs;
    const am = this.amount;
    const lastAt = at.pop()!;
    const lastAmount = am.pop()!;
    const n = at.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && at[right]! < at[left]! ? right : left;
      if (at[child]! >= lastAt) break;
      at[i] = at[child]!;
      am[i] = am[child]!;
      i = child;
    }
    at[i] = lastAt;
    am[i] = lastAmount;
  }
}

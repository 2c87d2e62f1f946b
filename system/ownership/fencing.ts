/**
 * The timing rules that make one owner per slot safe without a consensus round per message
 * (docs/storage-cassandra.md, "Numbering by an owner"). Pure functions and one small clock, so the
 * property test can drive them through arbitrary pauses and delays.
 *
 * - An owner writes only while its lease is valid with a margin (`mayServe`), and stamps every
 *   write with a Cassandra write timestamp below the lease's timestamp ceiling.
 * - A new owner waits until the old lease has expired plus a clock-skew margin (`mayTakeOver`),
 *   then fences: a range tombstone at the old ceiling deletes whatever the old owner may still
 *   write beyond the head it found, and its own writes are stamped above that ceiling.
 */

export interface LeaseTiming {
  /** How long a lease lasts from its last renewal. */
  leaseMs: number;
  /** An owner stops serving this long before its lease ends (its own requests may still be in flight). */
  serveMarginMs: number;
  /** How far apart two nodes' clocks may be; a takeover waits this long past the old expiry. */
  clockSkewMs: number;
}

export function mayServe(nowMs: number, expiresAtMs: number, timing: LeaseTiming): boolean {
  return nowMs < expiresAtMs - timing.serveMarginMs;
}

export function mayTakeOver(nowMs: number, expiresAtMs: number, timing: LeaseTiming): boolean {
  return nowMs >= expiresAtMs + timing.clockSkewMs;
}

/**
 * Cassandra write timestamps (µs) for one node: strictly increasing, never below a floor (the
 * ceiling of the lease a slot was taken over from), and refused at or above a ceiling (the one
 * this node promised in its lease row).
 */
export class WriteTimestamps {
  private lastUs = 0;

  get last(): number {
    return this.lastUs;
  }

  /** The next timestamp above `floorUs`, or undefined if it would reach `ceilingUs`. */
  next(nowMs: number, floorUs: number, ceilingUs: number): number | undefined {
    const candidate = Math.max(Math.floor(nowMs * 1000), this.lastUs + 1, floorUs + 1);
    if (candidate >= ceilingUs) return undefined;
    this.lastUs = candidate;
    return candidate;
  }

  /**
   * The ceiling to promise with a lease ending at `expiresAtMs`: at least the lease's end, and a
   * lease's worth above every timestamp used so far and the floor, so that an owner whose clock
   * runs behind its floor still has room to write until the lease ends.
   */
  ceilingFor(expiresAtMs: number, floorUs: number, leaseMs: number): number {
    return Math.max(expiresAtMs * 1000, this.lastUs + leaseMs * 1000, floorUs + leaseMs * 1000);
  }
}

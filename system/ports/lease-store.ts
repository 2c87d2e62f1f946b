/** One slot's lease as stored: who owns it, at which epoch, until when. */
export interface SlotLease {
  slot: number;
  owner: string;
  /** Rises by one with every change of owner: the fencing token. */
  epoch: number;
  /** The owner's clock (ms) at which the lease ends unless renewed. */
  expiresAtMs: number;
  /** The owner never stamps a write at or above this Cassandra timestamp (µs) under this lease. */
  ceilingUs: number;
}

/**
 * Slot leases and node liveness, shared by every gateway node. Changes of a lease are
 * compare-and-set (a lightweight transaction in Cassandra): one per renewal and per takeover,
 * independent of the message traffic.
 */
export interface LeaseStore {
  readAll(): Promise<SlotLease[]>;
  /**
   * Writes `next` if the slot's lease is still exactly the one the caller saw expire (same epoch
   * and end: a renewal that won the race changes the end, and the take fails); `expected`
   * undefined: the slot has never been leased. Returns whether it was written.
   */
  take(next: SlotLease, expected: { epoch: number; expiresAtMs: number } | undefined): Promise<boolean>;
  /** Moves our lease's end (renewal, or release when in the past) if we still own it at `epoch`. */
  extend(slot: number, owner: string, epoch: number, expiresAtMs: number, ceilingUs: number): Promise<boolean>;
  /** Marks the node alive for `ttlMs`. */
  heartbeat(nodeId: string, ttlMs: number): Promise<void>;
  /** Marks the node gone at once (a graceful stop), so the others stop preferring it. */
  leave(nodeId: string): Promise<void>;
  liveNodes(): Promise<string[]>;
}

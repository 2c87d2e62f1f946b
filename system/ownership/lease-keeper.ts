/**
 * Keeps this gateway node's slot leases: marks the node alive, reads every slot's lease, takes
 * the slots it is the preferred owner of once their old lease has run out, renews what it holds,
 * and hands back slots a newly arrived node is preferred for. Everything else asks it two things:
 * where a conversation's appends run (`route`), and, for the message store, whether and with
 * which write timestamp it may still write under a lease (`writeTimestamp`).
 *
 * Deterministic: time and timers come from the Clock port, storage from the LeaseStore port.
 */
import type { ConversationId } from '../core/ids.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { OwnerRoute } from '../ports/conversation-owners.js';
import type { LeaseStore, SlotLease } from '../ports/lease-store.js';
import type { Logger } from '../ports/logger.js';
import { mayServe, mayTakeOver, WriteTimestamps, type LeaseTiming } from './fencing.js';
import { preferredOwner, slotOf } from './slot-map.js';

export interface OwnershipSettings extends LeaseTiming {
  /** Conversations hash to this many slots; fixed for a deployment (every node must agree). */
  slotCount: number;
  /** How often a node marks itself alive and re-reads the leases. */
  tickMs: number;
  /** A node not heard from for this long is taken for gone. */
  nodeTtlMs: number;
}

export const DEFAULT_OWNERSHIP: OwnershipSettings = {
  slotCount: 32,
  leaseMs: 8_000,
  serveMarginMs: 1_000,
  clockSkewMs: 500,
  tickMs: 2_000,
  nodeTtlMs: 7_000,
};

/** A lease this node holds. */
export interface HeldLease {
  epoch: number;
  expiresAtMs: number;
  ceilingUs: number;
  /** Timestamps under this lease start above this (the previous owner's ceiling). */
  floorUs: number;
}

export interface LeaseKeeperDeps {
  clock: Clock;
  log: Logger;
  store: LeaseStore;
  nodeId: string;
}

export class LeaseKeeper {
  private readonly held = new Map<number, HeldLease>();
  private view = new Map<number, SlotLease>();
  private live: string[] = [];
  private timer: TimerHandle | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private failing = false;
  /** When the leases were last read successfully (0: never). */
  private lastReadAtMs = 0;
  private readonly lostListeners = new Set<(slot: number) => void>();
  readonly timestamps = new WriteTimestamps();

  constructor(
    private readonly deps: LeaseKeeperDeps,
    readonly settings: OwnershipSettings = DEFAULT_OWNERSHIP,
  ) {}

  get nodeId(): string {
    return this.deps.nodeId;
  }

  /** Reads the leases once and takes what is free for this node; later ticks run on their own. */
  async start(): Promise<void> {
    await this.refresh();
  }

  /** Stops ticking and hands back every slot (their next owners need wait only the skew margin). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    if (this.ticking) await this.ticking.catch(() => undefined);
    // Gone from the live list first: the others then prefer each other for this node's slots.
    await this.deps.store.leave(this.deps.nodeId).catch(() => undefined);
    const releases = [...this.held.entries()].map(([slot, lease]) => this.release(slot, lease));
    await Promise.all(releases);
  }

  slotOf(conversationId: ConversationId): number {
    return slotOf(conversationId, this.settings.slotCount);
  }

  route(conversationId: ConversationId): OwnerRoute {
    const slot = this.slotOf(conversationId);
    if (this.servingLease(slot)) return { local: true };
    const row = this.view.get(slot);
    const now = this.deps.clock.nowMs();
    if (row && row.owner !== this.deps.nodeId && now < row.expiresAtMs) return { local: false, nodeId: row.owner };
    // Three missed reads in a row: the lease store is down, no owner will appear until it is back.
    const unknown = now - this.lastReadAtMs > 3 * this.settings.tickMs;
    return { local: false, nodeId: undefined, ...(unknown && { unknown }) };
  }

  /** The lease under which this node may write to the slot now, if any. */
  servingLease(slot: number): HeldLease | undefined {
    const lease = this.held.get(slot);
    if (!lease || !mayServe(this.deps.clock.nowMs(), lease.expiresAtMs, this.settings)) return undefined;
    return lease;
  }

  /** A Cassandra write timestamp (µs) for a write under the slot's lease at `epoch`, or undefined when that lease no longer allows one. */
  writeTimestamp(slot: number, epoch: number): number | undefined {
    const lease = this.servingLease(slot);
    if (!lease || lease.epoch !== epoch) return undefined;
    return this.timestamps.next(this.deps.clock.nowMs(), lease.floorUs, lease.ceilingUs);
  }

  /** Calls `listener(slot)` when this node stops holding a slot. */
  onLost(listener: (slot: number) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** Slots held now (diagnostics, tests). */
  heldSlots(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** Runs a tick now (or joins the running one). */
  refresh(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (!this.ticking) {
      this.timer?.cancel();
      this.timer = undefined;
      this.ticking = this.tick()
        .then(
          () => {
            if (this.failing) this.deps.log.info('slot leases readable again');
            this.failing = false;
          },
          (error: unknown) => {
            // Said once per outage, not once per tick.
            if (!this.failing) this.deps.log.warn('slot leases cannot be read or renewed', { error: (error as Error).message });
            this.failing = true;
          },
        )
        .finally(() => {
          this.ticking = undefined;
          this.scheduleTick();
        });
    }
    return this.ticking;
  }

  private scheduleTick(): void {
    if (this.stopped || this.timer) return;
    this.timer = this.deps.clock.setTimer(this.nextTickDelayMs(), () => {
      this.timer = undefined;
      void this.refresh();
    });
  }

  /** The regular tick, or sooner when a slot this node waits for becomes takeable. */
  private nextTickDelayMs(): number {
    const now = this.deps.clock.nowMs();
    let delay = this.settings.tickMs;
    for (const [slot, row] of this.view) {
      if (this.held.has(slot) || row.owner === this.deps.nodeId || preferredOwner(slot, this.live) !== this.deps.nodeId) continue;
      delay = Math.min(delay, Math.max(1, row.expiresAtMs + this.settings.clockSkewMs - now));
    }
    return delay;
  }

  private async tick(): Promise<void> {
    const { store, nodeId } = this.deps;
    // A failed heartbeat shows as the failed reads below (the same store).
    await store.heartbeat(nodeId, this.settings.nodeTtlMs).catch(() => undefined);
    const [rows, liveNodes] = await Promise.all([store.readAll(), store.liveNodes()]);
    this.view = new Map(rows.map((row) => [row.slot, row]));
    this.lastReadAtMs = this.deps.clock.nowMs();
    this.live = [...new Set([...liveNodes, nodeId])].sort();
    const work: Array<Promise<void>> = [];
    for (let slot = 0; slot < this.settings.slotCount; slot++) {
      const step = this.stepFor(slot);
      if (step) work.push(step);
    }
    await Promise.all(work);
  }

  /** What this node does about one slot in a tick, if anything. */
  private stepFor(slot: number): Promise<void> | undefined {
    const me = this.deps.nodeId;
    const row = this.view.get(slot);
    const lease = this.held.get(slot);
    const preferred = preferredOwner(slot, this.live);
    const now = this.deps.clock.nowMs();
    if (lease) {
      if (!row || row.owner !== me || row.epoch !== lease.epoch) {
        this.forget(slot, 'taken by another node');
        return undefined;
      }
      if (preferred !== me) return this.release(slot, lease);
      if (lease.expiresAtMs - now < this.settings.leaseMs / 2) return this.renew(slot, lease);
      return undefined;
    }
    if (preferred !== me) return undefined;
    if (row && !mayTakeOver(now, row.expiresAtMs, this.settings)) return undefined;
    return this.take(slot, row);
  }

  private async take(slot: number, previous: SlotLease | undefined): Promise<void> {
    const now = this.deps.clock.nowMs();
    const floorUs = previous?.ceilingUs ?? 0;
    const expiresAtMs = now + this.settings.leaseMs;
    const next: SlotLease = {
      slot,
      owner: this.deps.nodeId,
      epoch: (previous?.epoch ?? 0) + 1,
      expiresAtMs,
      ceilingUs: this.timestamps.ceilingFor(expiresAtMs, floorUs, this.settings.leaseMs),
    };
    const expected = previous && { epoch: previous.epoch, expiresAtMs: previous.expiresAtMs };
    const taken = await this.deps.store.take(next, expected).catch(() => false);
    if (!taken) return;
    // Held from the moment the write was sent: expiry counts from `now`, before the round trip.
    this.held.set(slot, { epoch: next.epoch, expiresAtMs, ceilingUs: next.ceilingUs, floorUs });
    this.view.set(slot, next);
  }

  private async renew(slot: number, lease: HeldLease): Promise<void> {
    const now = this.deps.clock.nowMs();
    const expiresAtMs = now + this.settings.leaseMs;
    const ceilingUs = this.timestamps.ceilingFor(expiresAtMs, lease.floorUs, this.settings.leaseMs);
    let renewed: boolean;
    try {
      renewed = await this.deps.store.extend(slot, this.deps.nodeId, lease.epoch, expiresAtMs, ceilingUs);
    } catch (error) {
      // Outcome unknown: keep serving under the old expiry, which ends sooner than the new one.
      this.deps.log.warn('slot lease renewal failed', { slot, error: (error as Error).message });
      return;
    }
    if (!renewed) {
      this.forget(slot, 'renewal refused');
      return;
    }
    if (this.held.get(slot) === lease) this.held.set(slot, { ...lease, expiresAtMs, ceilingUs });
  }

  /** Stops serving the slot, then ends the lease now so its next owner waits only the skew margin. */
  private async release(slot: number, lease: HeldLease): Promise<void> {
    this.forget(slot, 'handed to its preferred owner');
    await this.deps.store.extend(slot, this.deps.nodeId, lease.epoch, this.deps.clock.nowMs(), lease.ceilingUs).catch(() => false);
  }

  private forget(slot: number, reason: string): void {
    if (!this.held.delete(slot)) return;
    // Handing a slot to its preferred owner is routine (a node joined); losing one is not.
    if (reason !== 'handed to its preferred owner') this.deps.log.warn('slot lease lost', { slot, reason });
    for (const listener of [...this.lostListeners]) listener(slot);
  }
}

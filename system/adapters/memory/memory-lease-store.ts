import type { Clock } from '../../ports/clock.js';
import type { LeaseStore, SlotLease } from '../../ports/lease-store.js';

/**
 * Slot leases in memory, for one process hosting several nodes (tests, the ownership property
 * test). Compare-and-set is trivially atomic here.
 */
export class MemoryLeaseStore implements LeaseStore {
  private readonly leases = new Map<number, SlotLease>();
  private readonly nodes = new Map<string, number>();

  constructor(private readonly clock: Pick<Clock, 'nowMs'>) {}

  async readAll(): Promise<SlotLease[]> {
    return [...this.leases.values()].map((lease) => ({ ...lease }));
  }

  async take(next: SlotLease, expected: { epoch: number; expiresAtMs: number } | undefined): Promise<boolean> {
    const current = this.leases.get(next.slot);
    const matches =
      expected === undefined ? current === undefined : current?.epoch === expected.epoch && current.expiresAtMs === expected.expiresAtMs;
    if (!matches) return false;
    this.leases.set(next.slot, { ...next });
    return true;
  }

  async extend(slot: number, owner: string, epoch: number, expiresAtMs: number, ceilingUs: number): Promise<boolean> {
    const current = this.leases.get(slot);
    if (!current || current.owner !== owner || current.epoch !== epoch) return false;
    this.leases.set(slot, { ...current, expiresAtMs, ceilingUs });
    return true;
  }

  async heartbeat(nodeId: string, ttlMs: number): Promise<void> {
    this.nodes.set(nodeId, this.clock.nowMs() + ttlMs);
  }

  async leave(nodeId: string): Promise<void> {
    this.nodes.delete(nodeId);
  }

  async liveNodes(): Promise<string[]> {
    const now = this.clock.nowMs();
    return [...this.nodes].filter(([, until]) => until > now).map(([nodeId]) => nodeId);
  }
}

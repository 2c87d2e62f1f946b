import type { LeaseStore, SlotLease } from '../../ports/lease-store.js';

/**
 * A lease store one node reaches through, for tests: `frozen` makes its calls hang until
 * `unfreeze()` (the node is paused: no renewal, no heartbeat), `refuseExtend` makes renewals fail
 * as if another node had taken the slot.
 */
export class ControlledLeaseStore implements LeaseStore {
  frozen = false;
  refuseExtend = false;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly inner: LeaseStore) {}

  freeze(): void {
    this.frozen = true;
  }

  unfreeze(): void {
    this.frozen = false;
    for (const resume of this.waiting.splice(0)) resume();
  }

  private async gate(): Promise<void> {
    if (this.frozen) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  async readAll(): Promise<SlotLease[]> {
    await this.gate();
    return this.inner.readAll();
  }
  async take(next: SlotLease, expected: { epoch: number; expiresAtMs: number } | undefined): Promise<boolean> {
    await this.gate();
    return this.inner.take(next, expected);
  }
  async extend(slot: number, owner: string, epoch: number, expiresAtMs: number, ceilingUs: number): Promise<boolean> {
    await this.gate();
    if (this.refuseExtend) return false;
    return this.inner.extend(slot, owner, epoch, expiresAtMs, ceilingUs);
  }
  async heartbeat(nodeId: string, ttlMs: number): Promise<void> {
    await this.gate();
    return this.inner.heartbeat(nodeId, ttlMs);
  }
  async leave(nodeId: string): Promise<void> {
    await this.gate();
    return this.inner.leave(nodeId);
  }
  async liveNodes(): Promise<string[]> {
    await this.gate();
    return this.inner.liveNodes();
  }
}

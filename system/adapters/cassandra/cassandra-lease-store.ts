/**
 * Slot leases and node liveness in Cassandra. Every lease change is a lightweight transaction on
 * the slot's row (one per takeover and per renewal, not per message); liveness is a row per node
 * written with a TTL and read by a scan of that small table.
 */
import type { LeaseStore, SlotLease } from '../../ports/lease-store.js';
import { num, type Cql } from './cql.js';

export class CassandraLeaseStore implements LeaseStore {
  private readonly q: ReturnType<typeof leaseStatements>;

  constructor(private readonly cql: Cql) {
    this.q = leaseStatements(cql);
  }

  async readAll(): Promise<SlotLease[]> {
    // At the write consistency, so committed takeovers are seen. (SERIAL is refused for a range
    // read.) A stale row only delays a takeover: `take` checks the exact lease it replaces.
    const rows = await this.cql.collect(this.q.readAll, [], Number.MAX_SAFE_INTEGER, this.cql.settings.writeConsistency);
    return rows.map((row) => ({
      slot: Number(row.get('slot')),
      owner: String(row.get('owner')),
      epoch: num(row.get('epoch')),
      expiresAtMs: num(row.get('expires_at_ms')),
      ceilingUs: num(row.get('ceiling_us')),
    }));
  }

  async take(next: SlotLease, expected: { epoch: number; expiresAtMs: number } | undefined): Promise<boolean> {
    const values = [next.owner, next.epoch, next.expiresAtMs, next.ceilingUs];
    const outcome = expected
      ? await this.cql.lwt(this.q.takeOver, [...values, next.slot, expected.epoch, expected.expiresAtMs])
      : await this.cql.lwt(this.q.takeFirst, [next.slot, ...values]);
    return outcome.applied;
  }

  async extend(slot: number, owner: string, epoch: number, expiresAtMs: number, ceilingUs: number): Promise<boolean> {
    const outcome = await this.cql.lwt(this.q.extend, [expiresAtMs, ceilingUs, slot, owner, epoch]);
    return outcome.applied;
  }

  async heartbeat(nodeId: string, ttlMs: number): Promise<void> {
    await this.cql.write(this.q.heartbeat, [nodeId, Math.max(1, Math.ceil(ttlMs / 1000))], true);
  }

  async leave(nodeId: string): Promise<void> {
    await this.cql.write(this.q.leave, [nodeId], true);
  }

  async liveNodes(): Promise<string[]> {
    const rows = await this.cql.collect(this.q.liveNodes, [], Number.MAX_SAFE_INTEGER);
    return rows.map((row) => String(row.get('node_id')));
  }
}

function leaseStatements(cql: Cql) {
  const leases = cql.table('slot_leases');
  const nodes = cql.table('gateway_nodes');
  return {
    readAll: `SELECT slot, owner, epoch, expires_at_ms, ceiling_us FROM ${leases}`,
    takeFirst: `INSERT INTO ${leases} (slot, owner, epoch, expires_at_ms, ceiling_us) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS`,
    takeOver: `UPDATE ${leases} SET owner = ?, epoch = ?, expires_at_ms = ?, ceiling_us = ? WHERE slot = ? IF epoch = ? AND expires_at_ms = ?`,
    extend: `UPDATE ${leases} SET expires_at_ms = ?, ceiling_us = ? WHERE slot = ? IF owner = ? AND epoch = ?`,
    heartbeat: `INSERT INTO ${nodes} (node_id, alive) VALUES (?, true) USING TTL ?`,
    leave: `DELETE FROM ${nodes} WHERE node_id = ?`,
    liveNodes: `SELECT node_id FROM ${nodes}`,
  };
}

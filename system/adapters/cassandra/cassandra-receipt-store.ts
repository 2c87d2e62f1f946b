/**
 * Receipt watermarks, one row per (conversation, recipient device) in the conversation's
 * partition. A watermark only rises, without Paxos: each cell is written with its seq as the
 * write timestamp, so whatever order concurrent writes arrive in, the highest seq wins
 * (last-write-wins on the timestamp = max). The read before the write gives `previousSeq`;
 * advances of one device are serialized in this process, so previous/current are exact for it.
 * Across processes (a device's reconnect overlapping its old connection) two advances may both
 * report the same rise: the receipt is then sent twice, and never lowered. `raise` is the same
 * write without the read: the timestamp alone keeps the maximum.
 */
import type { ReceiptState } from '../../core/events.js';
import type { ConversationId, DeviceAddress, Seq } from '../../core/ids.js';
import { KeyedSerializer } from '../../core/keyed-serializer.js';
import type { ReceiptStore, Watermarks } from '../../ports/receipt-store.js';
import { num, type Cql } from './cql.js';

export class CassandraReceiptStore implements ReceiptStore {
  private readonly serializer = new KeyedSerializer();
  private readonly q: ReturnType<typeof receiptStatements>;

  constructor(private readonly cql: Cql) {
    this.q = receiptStatements(cql);
  }

  advance(
    conversationId: ConversationId,
    device: DeviceAddress,
    state: ReceiptState,
    seq: Seq,
  ): Promise<{ previousSeq: Seq; currentSeq: Seq }> {
    const key = JSON.stringify([conversationId, device.userId, device.deviceId, state]);
    return this.serializer.run(key, async () => {
      const column = state === 'delivered' ? 'delivered_seq' : 'read_seq';
      // Read at the write consistency: it sees every acknowledged advance.
      const row = await this.cql.readOne(this.q.read, [conversationId, device.userId, device.deviceId], this.cql.settings.writeConsistency);
      const previousSeq = num(row?.get(column));
      if (seq <= previousSeq) return { previousSeq, currentSeq: previousSeq };
      await this.write(conversationId, device, state, seq);
      return { previousSeq, currentSeq: seq };
    });
  }

  /** Not serialized with `advance`: a write with a lower timestamp never overwrites a higher one. */
  raise(conversationId: ConversationId, device: DeviceAddress, state: ReceiptState, seq: Seq): Promise<void> {
    return this.write(conversationId, device, state, seq);
  }

  private write(conversationId: ConversationId, device: DeviceAddress, state: ReceiptState, seq: Seq): Promise<void> {
    // Idempotent: the same seq at the same timestamp writes the same cell.
    return this.cql.write(
      state === 'delivered' ? this.q.raiseDelivered : this.q.raiseRead,
      [seq, seq, conversationId, device.userId, device.deviceId],
      true,
    );
  }

  async list(conversationId: ConversationId): Promise<Watermarks[]> {
    const rows = await this.cql.collect(this.q.list, [conversationId], Number.MAX_SAFE_INTEGER);
    return rows.map((r) => ({
      userId: String(r.get('user_id')),
      deviceId: String(r.get('device_id')),
      deliveredSeq: num(r.get('delivered_seq')),
      readSeq: num(r.get('read_seq')),
    }));
  }
}

function receiptStatements(cql: Cql) {
  const receipts = cql.table('receipts');
  const key = 'WHERE conversation_id = ? AND user_id = ? AND device_id = ?';
  return {
    read: `SELECT delivered_seq, read_seq FROM ${receipts} ${key}`,
    // USING TIMESTAMP = seq: the highest seq is the newest write, whatever the arrival order.
    raiseDelivered: `UPDATE ${receipts} USING TIMESTAMP ? SET delivered_seq = ? ${key}`,
    raiseRead: `UPDATE ${receipts} USING TIMESTAMP ? SET read_seq = ? ${key}`,
    list: `SELECT user_id, device_id, delivered_seq, read_seq FROM ${receipts} WHERE conversation_id = ?`,
  };
}

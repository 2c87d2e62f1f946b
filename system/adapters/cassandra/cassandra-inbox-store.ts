/**
 * Per-device offline queues (fan-out on write): partition (user_id, device_id), rows ordered by
 * (conversation_id, seq), each a full copy of the event so draining an inbox reads one partition.
 * An ack is one range deletion; unlinking a device drops its partition. Entries expire after
 * inboxTtlSeconds (see cassandra-config.ts) so TimeWindowCompaction can drop whole windows.
 */
import type { ConversationEvent } from '../../core/events.js';
import type { ConversationId, DeviceAddress, Seq } from '../../core/ids.js';
import type { InboxPosition, InboxStore } from '../../ports/inbox-store.js';
import { forEachLimited, limitParam, num, type Cql } from './cql.js';
import { EVENT_COLUMN_LIST, EVENT_PLACEHOLDERS, eventFromRow, eventValues } from './event-rows.js';

/**
 * Writes in flight for one enqueueMany. With group commit (write-coalescer.ts) the writes of one
 * turn leave as unlogged batches of up to 64 statements; without it, each is its own request. The
 * bound keeps a group of multi-device users (up to 1,280 devices) from taking all of a
 * connection's 2,048 stream ids.
 */
const INBOX_WRITES_IN_FLIGHT = 256;

export class CassandraInboxStore implements InboxStore {
  private readonly q: ReturnType<typeof inboxStatements>;

  constructor(private readonly cql: Cql) {
    this.q = inboxStatements(cql);
  }

  async enqueue(device: DeviceAddress, event: ConversationEvent): Promise<void> {
    // Same key, same content: a repeat rewrites the row identically (idempotent, driver may retry).
    await this.cql.write(
      this.q.enqueue,
      [device.userId, device.deviceId, event.conversationId, event.seq, ...eventValues(event), this.cql.settings.inboxTtlSeconds],
      true,
    );
  }

  /** Concurrent single-row writes, at most INBOX_WRITES_IN_FLIGHT at once (each to its own partition). */
  async enqueueMany(devices: readonly DeviceAddress[], event: ConversationEvent): Promise<void> {
    await forEachLimited(devices, INBOX_WRITES_IN_FLIGHT, (device) => this.enqueue(device, event));
  }

  async list(device: DeviceAddress, limit: number, after?: InboxPosition): Promise<ConversationEvent[]> {
    if (limit <= 0) return [];
    const rows = after
      ? await this.cql.collect(
          this.q.listAfter,
          [device.userId, device.deviceId, after.conversationId, after.seq, limitParam(limit)],
          limit,
        )
      : await this.cql.collect(this.q.list, [device.userId, device.deviceId, limitParam(limit)], limit);
    return rows.map(eventFromRow);
  }

  async ackThrough(device: DeviceAddress, conversationId: ConversationId, throughSeq: Seq): Promise<void> {
    if (throughSeq < 1) return;
    await this.cql.write(this.q.ackThrough, [device.userId, device.deviceId, conversationId, throughSeq], true);
  }

  async depth(device: DeviceAddress): Promise<number> {
    const row = await this.cql.readOne(this.q.depth, [device.userId, device.deviceId]);
    return num(row?.get('count'));
  }

  async clear(device: DeviceAddress): Promise<void> {
    await this.cql.write(this.q.clear, [device.userId, device.deviceId], true);
  }
}

function inboxStatements(cql: Cql) {
  const inbox = cql.table('inbox');
  const columns = `conversation_id, seq, ${EVENT_COLUMN_LIST}`;
  return {
    enqueue: `INSERT INTO ${inbox} (user_id, device_id, conversation_id, seq, ${EVENT_COLUMN_LIST}) VALUES (?, ?, ?, ?, ${EVENT_PLACEHOLDERS}) USING TTL ?`,
    list: `SELECT ${columns} FROM ${inbox} WHERE user_id = ? AND device_id = ? LIMIT ?`,
    // A multi-column slice: strictly after (conversation, seq) in clustering order.
    listAfter: `SELECT ${columns} FROM ${inbox} WHERE user_id = ? AND device_id = ? AND (conversation_id, seq) > (?, ?) LIMIT ?`,
    ackThrough: `DELETE FROM ${inbox} WHERE user_id = ? AND device_id = ? AND conversation_id = ? AND seq <= ?`,
    depth: `SELECT COUNT(*) AS count FROM ${inbox} WHERE user_id = ? AND device_id = ?`,
    clear: `DELETE FROM ${inbox} WHERE user_id = ? AND device_id = ?`,
  };
}

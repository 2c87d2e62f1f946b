/**
 * Group commit on the real local node: batches across partitions, statements with their own
 * `USING TIMESTAMP` / `USING TTL` inside them, and batches near the byte cap accepted by a node
 * with Cassandra's default batch_size_fail_threshold (50 KiB) — none falls back to single writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureServices } from '../../../infra/local/services-api.js';
import { bytesBase64, chatEvent, range, uniqueDevice, uniqueGroupId } from '../../ports/contracts/support.js';
import { CassandraInboxStore } from './cassandra-inbox-store.js';
import { createCassandraStores, type CassandraStores } from './cassandra-stores.js';
import { Cql, num } from './cql.js';
import { GROUP_COMMIT_LIMITS } from './write-coalescer.js';

let stores: CassandraStores | undefined;

beforeAll(async () => {
  const env = await ensureServices(['cassandra']);
  stores = await createCassandraStores({
    contactPoints: env.CASSANDRA_CONTACT_POINTS.split(','),
    localDataCenter: env.CASSANDRA_LOCAL_DC,
    keyspace: 'chat_test',
  });
}, 180_000);

afterAll(async () => {
  await stores?.close();
});

/** A Cql of its own, so its group-commit counts are this test's alone. */
function freshCql(): Cql {
  if (!stores) throw new Error('Cassandra is not up (beforeAll failed)');
  return new Cql(stores.client, stores.settings);
}

describe('group commit on a real node', () => {
  it('one turn of inbox writes to many partitions goes in batches and lands whole', async () => {
    const cql = freshCql();
    const inbox = new CassandraInboxStore(cql);
    const devices = range(1, 150).map(() => uniqueDevice());
    const event = chatEvent(uniqueGroupId(), 1, { bodyBase64: bytesBase64(200) });
    await inbox.enqueueMany(devices, event);
    const stats = cql.groupCommitStats!;
    expect(stats.batches).toBe(Math.ceil(150 / GROUP_COMMIT_LIMITS.batchStatementsMax));
    expect(stats.batchedWrites).toBe(150);
    expect(stats.singleWrites).toBe(0);
    for (const device of devices.slice(0, 10)) expect(await inbox.list(device, 10)).toEqual([event]);
  });

  it('bodies near the byte cap: batches stay under the node default fail threshold', async () => {
    const cql = freshCql();
    const inbox = new CassandraInboxStore(cql);
    const devices = range(1, 60).map(() => uniqueDevice());
    // 4 KiB bodies: about 11 per 48 KiB batch, so each batch is close to the cap.
    const event = chatEvent(uniqueGroupId(), 1, { bodyBase64: bytesBase64(4 * 1024) });
    await inbox.enqueueMany(devices, event);
    const stats = cql.groupCommitStats!;
    expect(stats.batches).toBeGreaterThanOrEqual(Math.ceil((60 * 4 * 1024) / GROUP_COMMIT_LIMITS.batchBytesMax));
    expect(stats.singleWrites).toBe(0); // no batch was refused as too large and re-sent one by one
    for (const device of devices.slice(0, 5)) expect(await inbox.list(device, 10)).toEqual([event]);
  });

  it('statements with their own USING TIMESTAMP keep them inside a batch (highest seq wins)', async () => {
    const cql = freshCql();
    const receipts = cql.table('receipts');
    const conversationId = uniqueGroupId();
    const device = uniqueDevice();
    const raise = `UPDATE ${receipts} USING TIMESTAMP ? SET delivered_seq = ? WHERE conversation_id = ? AND user_id = ? AND device_id = ?`;
    // One turn, one batch; the lower seq arrives last but has the lower timestamp.
    await Promise.all([9, 4].map((seq) => cql.write(raise, [seq, seq, conversationId, device.userId, device.deviceId], true)));
    expect(cql.groupCommitStats).toMatchObject({ batches: 1, batchedWrites: 2 });
    const row = await cql.readOne(
      `SELECT delivered_seq, WRITETIME(delivered_seq) AS at FROM ${receipts} WHERE conversation_id = ? AND user_id = ? AND device_id = ?`,
      [conversationId, device.userId, device.deviceId],
    );
    expect(num(row?.get('delivered_seq'))).toBe(9);
    expect(num(row?.get('at'))).toBe(9);
  });
});

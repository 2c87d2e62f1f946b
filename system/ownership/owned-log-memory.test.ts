/**
 * The owned log's memory stays bounded: past `keysHeldMax` idempotency keys (or
 * `openConversationsMax` conversations) the least recently used conversations are closed, and a
 * closed conversation reopens from the log with its keys, so a retry is still recognised.
 */
import { describe, expect, it } from 'vitest';
import { CassandraOwnedLog } from '../adapters/cassandra/cassandra-owned-log.js';
import { MemoryLeaseStore } from '../adapters/memory/memory-lease-store.js';
import { ManualClock } from '../adapters/virtual/manual-clock.js';
import { silentLogger } from '../ports/logger.js';
import type { ChatMessageEvent } from '../core/events.js';
import { DEFAULT_OWNERSHIP, LeaseKeeper } from './lease-keeper.js';
import { ModelCassandra, ModelCql } from './model-cassandra.js';

function draft(conversationId: string, clientMessageId: string): Omit<ChatMessageEvent, 'seq'> {
  return {
    kind: 'message',
    conversationId,
    senderUserId: 'alice',
    senderDeviceId: 'phone',
    clientMessageId,
    bodyBase64: 'aGk=',
    serverTimeMs: 1,
  };
}

describe('CassandraOwnedLog memory bounds', () => {
  it('closes the least recently used conversations past keysHeldMax and recognises retries after reopening', async () => {
    const clock = new ManualClock();
    const keeper = new LeaseKeeper(
      { clock, log: silentLogger, store: new MemoryLeaseStore(clock), nodeId: 'solo' },
      { ...DEFAULT_OWNERSHIP, slotCount: 4 },
    );
    await keeper.start();
    expect(keeper.heldSlots()).toEqual([0, 1, 2, 3]);
    const log = new CassandraOwnedLog(new ModelCql(new ModelCassandra(), 8).asCql(), keeper, {
      idempotencyWindowEvents: 100,
      keysPerConversationMax: 100,
      openConversationsMax: 1_000,
      keysHeldMax: 10,
    });
    const conversations = Array.from({ length: 6 }, (_, i) => `grp:0000000${i}`);
    for (const conversationId of conversations) {
      for (let m = 0; m < 4; m++) await log.append(draft(conversationId, `m${m}`));
    }
    // 24 keys written; at most 10 held, plus the newest conversation's own keys.
    expect(log.memory.keysHeld).toBeLessThanOrEqual(10);
    expect(log.memory.openConversations).toBeLessThan(conversations.length);
    // The first conversation was closed; a retry of its first message is still a duplicate.
    const retry = await log.append(draft(conversations[0]!, 'm0'));
    expect(retry).toMatchObject({ duplicate: true, event: { seq: 1 } });
    const next = await log.append(draft(conversations[0]!, 'm4'));
    expect(next).toMatchObject({ duplicate: false, event: { seq: 5 } });
    await keeper.stop();
  });
});

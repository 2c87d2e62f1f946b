/**
 * The write-ahead path end to end on the embedded server over real sockets: while the message
 * store refuses writes, sends are answered `queued` (logged durably), nothing reaches recipients;
 * when the store returns, the log replays in order, every device gets every message once, the
 * sender learns each seq, and the checker finds no violation. The same path against a stopped
 * Cassandra runs in system/cluster/cassandra-outage.integration.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { checkHistory } from '../checker/index.js';
import { directConversationId } from '../sdk/index.js';
import { MemoryWriteAheadLog } from '../system/adapters/memory/memory-write-ahead-log.js';
import type { MessageStore } from '../system/ports/message-store.js';
import type { MemoryStores } from '../system/worlds/embedded-world.js';
import { OutageMessageStore } from '../system/testing/outage-message-store.js';
import { E2E, waitUntil } from './support.js';

describe('write-ahead log on a message-store outage', () => {
  let e2e: E2E | undefined;
  afterEach(async () => {
    await e2e?.close();
    e2e = undefined;
  });

  async function start(wal = new MemoryWriteAheadLog(), options: { down?: boolean; stores?: MemoryStores } = {}) {
    let store: OutageMessageStore | undefined;
    const outage = (memory: MessageStore) => {
      store = new OutageMessageStore(memory);
      store.down = options.down ?? false;
      return store;
    };
    e2e = await E2E.start({
      wal,
      messages: outage,
      limits: { walReplayRetryMs: 20, walReplayRetryMaxMs: 100 },
      ...(options.stores && { stores: options.stores }),
    });
    return { e2e, store: store!, wal };
  }

  it('queues sends during the outage and delivers them in order, once, after it', async () => {
    const { e2e, store, wal } = await start();
    const alice = await e2e.connect('alice', 'phone');
    const aliceTablet = await e2e.connect('alice', 'tablet');
    const bob = await e2e.connect('bob', 'phone');
    const dm = directConversationId('alice', 'bob');
    const first = await alice.client.send(dm, 'before the outage');
    expect(first.seq).toBe(1);

    store.down = true;
    const queuedAnswers: string[] = [];
    alice.client.on('queued', (q) => queuedAnswers.push(q.clientMessageId));
    const during = ['o1', 'o2', 'o3', 'o4'].map((id) => alice.client.send(dm, `during ${id}`, { clientMessageId: id }));
    await waitUntil(() => queuedAnswers.length === 4, 'four queued answers');
    const bobDuring = bob.client.send(dm, 'bob during', { clientMessageId: 'b1' });
    await waitUntil(() => wal.pending().length === 5, "bob's send in the log");
    expect(wal.pending().map((e) => e.clientMessageId)).toEqual(['o1', 'o2', 'o3', 'o4', 'b1']);
    expect(bob.messageIds(dm)).toEqual([first.clientMessageId]);
    expect(e2e.server.world.core.writeAhead?.pendingCount).toBe(5);

    store.down = false;
    const results = await Promise.all(during);
    expect(results.map((r) => r.seq)).toEqual([2, 3, 4, 5]);
    expect((await bobDuring).seq).toBe(6);
    await waitUntil(() => bob.messageIds(dm).length === 5 && aliceTablet.messageIds(dm).length === 6, 'deliveries after replay');
    expect(bob.messageIds(dm)).toEqual([first.clientMessageId, 'o1', 'o2', 'o3', 'o4']);
    expect(aliceTablet.seqs(dm)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(wal.pending()).toEqual([]);

    e2e.quiesce(e2e.clients);
    const result = checkHistory([...e2e.history.events]);
    expect(result.violations).toEqual([]);
    expect(e2e.history.events.filter((e) => e.type === 'queued')).toHaveLength(5);
  });

  it('answers a retried queued send from the log without logging it twice', async () => {
    const { e2e, store, wal } = await start();
    const raw = await e2e.raw('carol', 'phone');
    await e2e.raw('dave', 'phone');
    const dm = directConversationId('carol', 'dave');
    store.down = true;
    const frame = { type: 'send', conversationId: dm, clientMessageId: 'c1', body: Buffer.from('hi').toString('base64') };
    const firstAnswer = await raw.request({ ...frame, rid: 'r1' });
    const retryAnswer = await raw.request({ ...frame, rid: 'r2' });
    expect(firstAnswer).toMatchObject({ type: 'queued', clientMessageId: 'c1', duplicate: false });
    expect(retryAnswer).toMatchObject({ type: 'queued', clientMessageId: 'c1', duplicate: true });
    const conflict = await raw.request({ ...frame, rid: 'r3', body: Buffer.from('other').toString('base64') });
    expect(conflict).toMatchObject({ type: 'error', code: 'IDEMPOTENCY_CONFLICT' });
    expect(wal.pending()).toHaveLength(1);
  });

  it('a restarted gateway replays what its log still holds', async () => {
    const wal = new MemoryWriteAheadLog();
    const before = await start(wal);
    const sender = await before.e2e.connect('erin', 'phone');
    await before.e2e.connect('frank', 'phone');
    const dm = directConversationId('erin', 'frank');
    before.store.down = true;
    const queued = new Promise((resolve) => sender.client.once('queued', resolve));
    void sender.client.send(dm, 'survives the restart', { clientMessageId: 'e1' }).catch(() => undefined);
    await queued;
    await before.e2e.close();
    e2e = undefined;

    // Same log and stores, new process (the stores play Cassandra: they outlive it); the store is up.
    const after = await start(wal, { stores: before.e2e.server.world.stores });
    const frank = await after.e2e.connect('frank', 'phone');
    await waitUntil(() => frank.messageIds(dm).includes('e1'), 'the replayed message at frank');
    expect(wal.pending()).toEqual([]);
  });

  it('the checker reports a queued message that never got a seq', async () => {
    const { e2e, store } = await start();
    const alice = await e2e.connect('alice', 'phone');
    await e2e.connect('bob', 'phone');
    store.down = true;
    const queued = new Promise((resolve) => alice.client.once('queued', resolve));
    void alice.client.send(directConversationId('alice', 'bob'), 'stuck', { clientMessageId: 'stuck-1' }).catch(() => undefined);
    await queued;
    e2e.quiesce(e2e.clients);
    const result = checkHistory([...e2e.history.events]);
    expect(result.violations.map((v) => v.invariant)).toContain('durability');
    expect(result.violations.find((v) => v.invariant === 'durability')?.message).toMatch(/stuck-1 .*queued.*never got a seq/);
  });
});

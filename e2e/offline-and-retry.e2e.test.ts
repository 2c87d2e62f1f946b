/**
 * End to end over real WebSockets: a device that was offline catches up exactly once and in
 * order, and a send whose ack was lost is retried without duplicating the message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { directConversationId, type ChatMessageEvent } from '../sdk/index.js';
import type { ServerFrameOf } from '../system/protocol/frames.js';
import { CloseCodes } from '../system/protocol/version.js';
import { E2E, b64, waitUntil, type TestClient } from './support.js';

let t: E2E | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const devicesOf = (...clients: TestClient[]) => clients.map(({ userId, deviceId }) => ({ userId, deviceId }));

describe('e2e: an offline device comes back', () => {
  it('receives every 1:1 and group message sent meanwhile, in seq order, exactly once', async () => {
    t = await E2E.start();
    const alice = await t.connect('alice', 'phone');
    const bob = await t.connect('bob', 'phone');
    const carol = await t.connect('carol', 'phone');
    const dmAB = directConversationId('alice', 'bob');
    const dmBC = directConversationId('bob', 'carol');

    const group = await alice.client.createGroup('hike', ['bob', 'carol']);
    const hello = await alice.client.send(dmAB, 'before');
    await waitUntil(
      () => bob.seqs(group.conversationId).length === 1 && bob.seqs(dmAB).length === 1,
      'bob to see the group and the first message',
    );

    // Bob goes away, keeping his cursors as an app would persist them.
    const cursors = bob.client.getCursors();
    expect(cursors).toEqual({ [group.conversationId]: 1, [dmAB]: hello.seq });
    bob.client.close();

    // Meanwhile: 1:1 from alice, group traffic from alice and carol, and a brand-new 1:1 from carol.
    const sends: Array<Promise<{ seq: number; clientMessageId: string; conversationId: string }>> = [];
    for (let i = 0; i < 10; i++) {
      sends.push(alice.client.send(dmAB, `dm ${i}`));
      sends.push((i % 2 === 0 ? alice : carol).client.send(group.conversationId, `group ${i}`));
      if (i % 3 === 0) sends.push(carol.client.send(dmBC, `carol ${i}`));
    }
    const accepted = await Promise.all(sends);
    const expected = (conversationId: string) =>
      accepted
        .filter((a) => a.conversationId === conversationId)
        .sort((a, b) => a.seq - b.seq)
        .map((a) => a.clientMessageId);

    const bob2 = await t.connect('bob', 'phone', { cursors });
    const lastSeq = (conversationId: string) => Math.max(...accepted.filter((a) => a.conversationId === conversationId).map((a) => a.seq));
    await waitUntil(
      () => [dmAB, dmBC, group.conversationId].every((id) => bob2.client.getCursor(id) === lastSeq(id)),
      'bob to catch up on every conversation',
    );

    for (const id of [dmAB, dmBC, group.conversationId]) {
      // In seq order, without gaps, each exactly once, starting right after the cursor he had.
      const seqs = bob2.seqs(id);
      const from = cursors[id] ?? 0;
      expect(seqs).toEqual(Array.from({ length: lastSeq(id) - from }, (_, k) => from + k + 1));
      expect(bob2.messageIds(id)).toEqual(expected(id));
    }
    // Nothing was handed over twice (inbox drain and resume sync overlap, but dedup by seq).
    const keys = bob2.delivered.map((d) => `${d.event.conversationId}#${d.event.seq}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(bob2.delivered.some((d) => d.via === 'sync')).toBe(true);

    t.quiesce(devicesOf(alice, bob2, carol));
    t.expectNoViolations();
  });
});

describe('e2e: an event received but never acknowledged', () => {
  it('is replayed from the inbox on the next connection, recognised as a duplicate and acknowledged then', async () => {
    t = await E2E.start();
    const alice = await t.connect('alice', 'phone');
    // Bob's first client stores what it receives but its acks never make it (autoAck off here).
    const bob = await t.connect('bob', 'phone', { autoAck: false });
    const dm = directConversationId('alice', 'bob');
    const sent = await alice.client.send(dm, 'did you get this?');
    await waitUntil(() => bob.client.getCursor(dm) === sent.seq, 'bob to receive the message');
    const bobDevice = { userId: 'bob', deviceId: 'phone' };
    expect(await t.server.world.stores.inbox.depth(bobDevice)).toBe(1);
    const cursors = bob.client.getCursors();
    bob.client.close();

    const bob2 = await t.connect('bob', 'phone', { cursors });
    await waitUntil(async () => (await t!.server.world.stores.inbox.depth(bobDevice)) === 0, 'the replayed event to be acknowledged');
    // …without handing it to the app a second time.
    expect(bob2.delivered).toEqual([]);

    t.quiesce(devicesOf(alice, bob2));
    t.expectNoViolations();
  });
});

describe('e2e: a retry after a lost ack does not duplicate', () => {
  it('raw socket: the same clientMessageId again after a reconnect gets the same seq with duplicate: true', async () => {
    t = await E2E.start();
    const bob = await t.connect('bob', 'phone');
    const dm = directConversationId('alice', 'bob');
    const send = { type: 'send', conversationId: dm, clientMessageId: 'alice-lost-ack-1', body: b64('are you there?') };

    // First connection: send, then hang up before reading anything back. Frames are processed in
    // order, so the server takes the send before it sees the close; its `sent` goes nowhere.
    const first = await t.raw('alice', 'phone');
    const framesBefore = first.frames.length;
    first.sendFrame({ ...send, rid: 'first' });
    first.socket.close(1000);
    await first.waitClosed();
    expect(first.frames.slice(framesBefore).filter((f) => f.type === 'sent')).toEqual([]);

    await waitUntil(() => bob.messageIds(dm).includes('alice-lost-ack-1'), 'bob to get the message of the lost ack');
    const original = bob.delivered.find((d) => d.event.kind === 'message' && d.event.clientMessageId === 'alice-lost-ack-1')!.event;

    // Second connection: the client never learned the outcome, so it retries the same frame.
    const second = await t.raw('alice', 'phone');
    const retry = (await second.request(send)) as ServerFrameOf<'sent'>;
    expect(retry).toMatchObject({ type: 'sent', clientMessageId: 'alice-lost-ack-1', seq: original.seq, duplicate: true });
    expect(retry.serverTimeMs).toBe(original.serverTimeMs);

    // A later message reaches bob after the retry was processed; the retried one did not come again.
    const next = (await second.request({
      type: 'send',
      conversationId: dm,
      clientMessageId: 'alice-next',
      body: b64('hello?'),
    })) as ServerFrameOf<'sent'>;
    expect(next).toMatchObject({ type: 'sent', seq: original.seq + 1, duplicate: false });
    await waitUntil(() => bob.messageIds(dm).includes('alice-next'), 'bob to get the next message');
    expect(bob.messageIds(dm)).toEqual(['alice-lost-ack-1', 'alice-next']);
    const stored = [...t.server.world.stores.messages.allEvents()].filter(
      (e) => e.kind === 'message' && e.clientMessageId === 'alice-lost-ack-1',
    );
    expect(stored).toHaveLength(1);

    second.terminate();
    t.quiesce(devicesOf(bob));
    t.expectNoViolations();
  });

  it('SDK: the connection dies right after the server stored the message; the automatic retry yields one message', async () => {
    t = await E2E.start();
    const alice = await t.connect('alice', 'phone');
    const bob = await t.connect('bob', 'phone');
    const dm = directConversationId('alice', 'bob');
    await alice.client.send(dm, 'warm-up');

    // Lose alice's next `sent` on the server side and close her socket at that moment, as if the
    // TCP connection died between the store and the ack.
    let killed = 0;
    t.tap.outgoing = (frame, session) => {
      if (frame.type !== 'sent' || killed > 0 || session.device?.userId !== 'alice') return true;
      killed++;
      session.close(CloseCodes.GOING_AWAY, 'test: connection lost');
      return false;
    };
    const disconnects: number[] = [];
    alice.client.on('disconnected', (info) => disconnects.push(info.code));

    const result = await alice.client.send(dm, 'the one that lost its ack', { clientMessageId: 'alice-sdk-lost-ack' });
    expect(killed).toBe(1);
    expect(disconnects).toEqual([CloseCodes.GOING_AWAY]);
    expect(result.duplicate).toBe(true);
    expect(alice.client.state).toBe('connected');

    await waitUntil(() => bob.messageIds(dm).includes('alice-sdk-lost-ack'), 'bob to get the message');
    const delivered = bob.delivered.filter((d) => d.event.kind === 'message' && d.event.clientMessageId === 'alice-sdk-lost-ack');
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.event.seq).toBe(result.seq);
    const stored = [...t.server.world.stores.messages.allEvents()].filter(
      (e): e is ChatMessageEvent => e.kind === 'message' && e.clientMessageId === 'alice-sdk-lost-ack',
    );
    expect(stored.map((e) => e.seq)).toEqual([result.seq]);
    // The history shows the two attempts and one ack.
    const attempts = t.history.events.filter((e) => e.type === 'send' && e.clientMessageId === 'alice-sdk-lost-ack');
    expect(attempts.map((e) => (e.type === 'send' ? e.attempt : 0))).toEqual([1, 2]);

    // And the conversation carries on normally.
    const after = await alice.client.send(dm, 'after');
    expect(after.seq).toBe(result.seq + 1);
    await waitUntil(() => bob.client.getCursor(dm) === after.seq, 'bob to get the last message');
    expect(bob.seqs(dm)).toEqual([1, 2, 3]);

    t.quiesce(devicesOf(alice, bob));
    t.expectNoViolations();
  });
});

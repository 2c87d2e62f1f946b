import { describe, expect, it } from 'vitest';
import type { ConversationEvent } from '../core/events.js';
import type { ConversationId, Seq } from '../core/ids.js';
import type { Route } from '../ports/connection-registry.js';
import type { ServerFrame } from '../protocol/frames.js';
import type { PushedSenders } from '../services/receipt-service.js';
import { connectDevice, createTestWorld, settle, type InProcessClient, type TestWorld } from '../testing/in-process-client.js';
import { PushedEvents } from './session.js';

/** What the session passed to the receipt service per ack/read: senders sorted, per state. */
type Passed = [string, Seq, Record<string, [string[], Seq, boolean]> | undefined];

/** Records the senders each ack/read hands the receipt service, and counts the reads the service makes. */
function spyOnReceipts(world: TestWorld) {
  const passed: Passed[] = [];
  const reads: string[] = [];
  const { receipts } = world.core;
  const delivered = receipts.delivered.bind(receipts);
  const read = receipts.read.bind(receipts);
  const describePushed = (pushed: PushedSenders | undefined) =>
    pushed &&
    Object.fromEntries(
      Object.entries(pushed).map(([state, k]) => [
        state,
        [[...k.senders].sort(), k.afterSeq, k.earlierSettled] as [string[], Seq, boolean],
      ]),
    );
  receipts.delivered = (caller, c, seq, sent, pushed) => (
    passed.push(['ack', seq, describePushed(pushed)]),
    delivered(caller, c, seq, sent, pushed)
  );
  receipts.read = (caller, c, seq, sent, pushed) => (
    passed.push(['read', seq, describePushed(pushed)]),
    read(caller, c, seq, sent, pushed)
  );
  const { messages, receipts: store } = world.core.deps;
  for (const name of ['readAfter', 'lastSeq'] as const) {
    const original = messages[name].bind(messages) as (...a: unknown[]) => Promise<unknown>;
    (messages as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => (reads.push(`messages.${name}`), original(...args));
  }
  const advance = store.advance.bind(store);
  store.advance = (...args) => (reads.push('receipts.advance'), advance(...args));
  return { passed, reads };
}

const receiptsOf = (client: InProcessClient) => client.framesOf('receipt').map((r) => `${r.state} ${r.upToSeq} by ${r.userId}`);

/** alice, bob and carol in a group (seq 1: created). */
async function groupOfThree() {
  const world = createTestWorld();
  const alice = await connectDevice(world, 'alice', 'phone');
  const bob = await connectDevice(world, 'bob', 'phone');
  const carol = await connectDevice(world, 'carol', 'phone');
  const { conversationId: group } = await alice.requestOk({ type: 'group_create', name: 'g', members: ['bob', 'carol'] }, 'group_result');
  return { world, alice, bob, carol, group };
}

describe('Session: the senders of an ack or read come from what the connection pushed', () => {
  it('in a group with two senders, each ack and read names exactly the senders it newly covers, and nothing is read', async () => {
    const { world, alice, bob, carol, group } = await groupOfThree();
    await alice.sendMessage(group, 'a2'); // 2
    await bob.sendMessage(group, 'b3'); // 3
    await alice.sendMessage(group, 'a4'); // 4
    await carol.sendMessage(group, 'c5'); // 5: carol's own, not pushed back to her
    await bob.sendMessage(group, 'b6'); // 6
    await settle();
    expect(carol.seqs(group)).toEqual([1, 2, 3, 4, 6]);
    const { passed, reads } = spyOnReceipts(world);

    carol.ack(group, 3);
    await settle();
    carol.ack(group, 6);
    await settle();
    carol.read(group, 4);
    await settle();
    carol.read(group, 6);
    await settle();

    expect(passed).toEqual([
      ['ack', 3, { delivered: [['alice', 'bob'], 0, true] }],
      ['ack', 6, { delivered: [['alice', 'bob'], 3, true] }],
      // The read: nothing new delivered; alice (2, 4) and bob (3) are due "read".
      ['read', 4, { delivered: [[], 6, true], read: [['alice', 'bob'], 0, false] }],
      // 5 is carol's own: only bob (6) is due.
      ['read', 6, { delivered: [[], 6, true], read: [['bob'], 4, true] }],
    ]);
    expect(reads).toEqual([]);
    expect(receiptsOf(alice)).toEqual(['delivered 3 by carol', 'delivered 6 by carol', 'read 4 by carol']);
    expect(receiptsOf(bob)).toEqual(['delivered 3 by carol', 'delivered 6 by carol', 'read 4 by carol', 'read 6 by carol']);
    const list = await alice.requestOk({ type: 'receipts', conversationId: group }, 'receipts_result');
    expect(list.devices).toEqual([{ userId: 'carol', deviceId: 'phone', deliveredSeq: 6, readSeq: 6 }]);
  });

  it('a live event that never arrived leaves its sender unknown: that ack reads the log, and the sender still hears of it', async () => {
    const { world, alice, bob, carol, group } = await groupOfThree();
    const [carolEntry] = await world.core.deps.registry.lookup('carol');
    dropLiveEvent(world, carolEntry!.route, 3);
    await alice.sendMessage(group, 'a2'); // 2
    await bob.sendMessage(group, 'b3'); // 3: lost on its way to carol
    await alice.sendMessage(group, 'a4'); // 4
    await settle();
    expect(carol.seqs(group)).toEqual([1, 2, 4]);
    const { passed, reads } = spyOnReceipts(world);
    carol.ack(group, 4);
    await settle();
    expect(passed).toEqual([['ack', 4, {}]]);
    expect(reads).toEqual(['receipts.advance', 'messages.readAfter']);
    expect(receiptsOf(bob)).toEqual(['delivered 4 by carol']);
    expect(receiptsOf(alice)).toEqual(['delivered 4 by carol']);
  });

  it('the heartbeat sweep fills such a gap: a copy not sent again still names its sender', async () => {
    const { world, bob, carol, alice, group } = await groupOfThree();
    const [carolEntry] = await world.core.deps.registry.lookup('carol');
    dropLiveEvent(world, carolEntry!.route, 3);
    await alice.sendMessage(group, 'a2'); // 2
    await bob.sendMessage(group, 'b3'); // 3: lost on its way to carol
    await alice.sendMessage(group, 'a4'); // 4
    await settle();
    await carol.heartbeat(); // the sweep finds 3 in the inbox; the session does not send it again (4 went out)
    expect(carol.seqs(group)).toEqual([1, 2, 4]);
    const { passed, reads } = spyOnReceipts(world);
    carol.ack(group, 4);
    await settle();
    expect(passed).toEqual([['ack', 4, { delivered: [['alice', 'bob'], 0, true] }]]);
    expect(reads).toEqual([]);
    expect(receiptsOf(bob)).toEqual(['delivered 4 by carol']);
  });

  it('a read on a new connection reaches the senders of what an earlier connection pushed and the device never read', async () => {
    const { world, alice, bob, carol, group } = await groupOfThree();
    await alice.sendMessage(group, 'a2'); // 2
    await bob.sendMessage(group, 'b3'); // 3
    await settle();
    carol.ack(group, 3);
    await settle();
    await carol.close();
    await alice.sendMessage(group, 'a4'); // 4: waits in carol's inbox
    const carolAgain = await connectDevice(world, 'carol', 'phone');
    expect(carolAgain.seqs(group)).toEqual([4]);
    const { passed } = spyOnReceipts(world);
    carolAgain.read(group, 4);
    await settle();
    // The connection knows only alice (4) and cannot tell whether 2 and 3 were read: the service
    // reads the log for that watermark, so bob (3) is told too.
    expect(passed).toEqual([['read', 4, { delivered: [['alice'], 3, true], read: [['alice'], 3, false] }]]);
    expect(receiptsOf(bob)).toEqual(['delivered 3 by carol', 'read 4 by carol']);
    expect(receiptsOf(alice)).toEqual(['delivered 3 by carol', 'delivered 4 by carol', 'read 4 by carol']);
  });
});

describe('PushedEvents', () => {
  const C: ConversationId = 'g:c';
  const message = (seq: Seq, senderUserId: string): ConversationEvent => ({
    kind: 'message',
    conversationId: C,
    seq,
    senderUserId,
    senderDeviceId: 'd',
    clientMessageId: `m${seq}`,
    bodyBase64: '',
    serverTimeMs: 0,
  });
  const senders = (pushes: PushedEvents, state: 'delivered' | 'read', seq: Seq) => {
    const known = pushes.senders(C, state, seq);
    return known && [[...known.senders].sort(), known.afterSeq];
  };

  it("a seq the connection's own send took is no gap; one it never learned of is", () => {
    const pushes = new PushedEvents();
    pushes.pushed(message(1, 'bob'), 'me');
    pushes.pushed(message(3, 'carol'), 'me');
    expect(senders(pushes, 'delivered', 3)).toBeUndefined();
    pushes.own(C, 2);
    expect(senders(pushes, 'delivered', 3)).toEqual([['bob', 'carol'], 0]);
  });

  it("the caller's own user, other devices included, is never a sender to tell", () => {
    const pushes = new PushedEvents();
    pushes.pushed(message(1, 'me'), 'me');
    pushes.pushed(message(2, 'bob'), 'me');
    expect(senders(pushes, 'delivered', 2)).toEqual([['bob'], 0]);
  });

  it('nothing is known below the first push, and everything between it and the watermark is', () => {
    const pushes = new PushedEvents();
    pushes.pushed(message(10, 'bob'), 'me');
    expect(pushes.senders(C, 'delivered', 9)).toBeUndefined();
    expect(senders(pushes, 'delivered', 10)).toEqual([['bob'], 9]);
    expect(pushes.senders(C, 'read', 10)?.earlierSettled).toBe(false);
  });

  it('remembers a bounded number of pushes above the read mark: a range over a forgotten one is unknown', () => {
    const pushes = new PushedEvents();
    for (let seq = 1; seq <= 300; seq++) pushes.pushed(message(seq, seq % 2 ? 'bob' : 'carol'), 'me');
    expect(pushes.senders(C, 'delivered', 300)).toBeUndefined();
    pushes.acknowledged(C, 'delivered', 100);
    expect(senders(pushes, 'delivered', 300)).toEqual([['bob', 'carol'], 100]);
    expect(pushes.senders(C, 'read', 300)).toBeUndefined();
    pushes.acknowledged(C, 'read', 100);
    expect(senders(pushes, 'read', 101)).toEqual([['bob'], 100]);
    expect(pushes.senders(C, 'read', 101)?.earlierSettled).toBe(true);
  });
});

/** The router loses the live copy of `seq` on its way to `route` (the event stays in the inbox). */
function dropLiveEvent(world: TestWorld, route: Route, seq: Seq): void {
  const { router } = world.core.deps;
  const deliver = router.deliver.bind(router);
  router.deliver = async (to: Route, frame: ServerFrame) => {
    if (frame.type === 'event' && frame.event.seq === seq && to.connectionId === route.connectionId) return;
    return deliver(to, frame);
  };
}

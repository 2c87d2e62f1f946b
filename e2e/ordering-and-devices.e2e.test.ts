/**
 * End to end over real WebSockets: concurrent senders in a group produce one order that every
 * member sees, and a user's devices stay in step (other devices get what one sent; a newly linked
 * device reads the past through history).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { base64ToText, directConversationId, type SendResult } from '../sdk/index.js';
import { E2E, waitUntil, type TestClient } from './support.js';

let t: E2E | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const devicesOf = (...clients: TestClient[]) => clients.map(({ userId, deviceId }) => ({ userId, deviceId }));

/** A device's view of a conversation: seq → "sender:body", from deliveries and its own acks. */
function timeline(client: TestClient, conversationId: string, own: SendResult[], ownBodies: Map<string, string>): Map<number, string> {
  const view = new Map<number, string>();
  for (const { event } of client.delivered) {
    if (event.conversationId !== conversationId) continue;
    view.set(event.seq, event.kind === 'message' ? `${event.senderUserId}:${base64ToText(event.bodyBase64)}` : `membership:${event.op}`);
  }
  for (const sent of own)
    if (sent.conversationId === conversationId) view.set(sent.seq, `${client.userId}:${ownBodies.get(sent.clientMessageId)}`);
  return view;
}

describe('e2e: two senders interleaving in a group', () => {
  it('every member device sees the same order, and each sender keeps its own send order', async () => {
    t = await E2E.start();
    const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
    const members: TestClient[] = [];
    for (const userId of users) members.push(await t.connect(userId, 'phone'));
    const [u1, u2, u3, u4, u5] = members as [TestClient, TestClient, TestClient, TestClient, TestClient];
    const group = await u1.client.createGroup('busy', users.slice(1));
    const id = group.conversationId;
    await waitUntil(() => members.every((m) => m.seqs(id).length === 1), 'every member to see the group');

    const PER_SENDER = 50;
    const bodies = new Map<string, string>();
    const sendAll = (sender: TestClient) =>
      Promise.all(
        Array.from({ length: PER_SENDER }, (_, i) => {
          const clientMessageId = `${sender.userId}-${i}`;
          const body = `${sender.userId} #${i}`;
          bodies.set(clientMessageId, body);
          return sender.client.send(id, body, { clientMessageId });
        }),
      );
    // Both senders fire all their messages at once; the server interleaves them.
    const [from1, from2] = await Promise.all([sendAll(u1), sendAll(u2)]);
    const last = 1 + 2 * PER_SENDER;
    expect([...from1, ...from2].map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 2 * PER_SENDER }, (_, k) => k + 2));

    await waitUntil(() => members.every((m) => m.client.getCursor(id) === last), 'every member to reach the last seq');

    // Each sender's messages got increasing seqs in the order they were sent.
    for (const own of [from1, from2]) {
      const seqs = own.map((r) => r.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    // Non-senders were handed exactly seq 1..last in order; everyone's full view is identical.
    for (const m of [u3, u4, u5]) expect(m.seqs(id)).toEqual(Array.from({ length: last }, (_, k) => k + 1));
    for (const m of [u1, u2]) {
      expect(m.seqs(id)).toEqual([1, ...(m === u1 ? from2 : from1).map((r) => r.seq)].sort((a, b) => a - b));
    }
    const views = members.map((m) => timeline(m, id, m === u1 ? from1 : m === u2 ? from2 : [], bodies));
    const reference = [...views[2]!.entries()].sort((a, b) => a[0] - b[0]);
    expect(reference).toHaveLength(last);
    for (const view of views) expect([...view.entries()].sort((a, b) => a[0] - b[0])).toEqual(reference);
    // Interleaving really happened (the test would be vacuous otherwise) — and per sender, order held.
    const senders = reference.slice(1).map(([, v]) => v.split(':')[0]);
    expect(senders.some((s, i) => i > 0 && s !== senders[i - 1])).toBe(true);
    for (const userId of ['u1', 'u2']) {
      const mine = reference.filter(([, v]) => v.startsWith(`${userId}:`)).map(([, v]) => Number(v.split('#')[1]));
      expect(mine).toEqual(Array.from({ length: PER_SENDER }, (_, i) => i));
    }

    t.quiesce(devicesOf(...members));
    t.expectNoViolations();
  });
});

describe('e2e: multi-device', () => {
  it("a user's other device receives what the first device sent; a newly linked device fetches history", async () => {
    t = await E2E.start();
    const phone = await t.connect('alice', 'phone');
    const laptop = await t.connect('alice', 'laptop');
    const bob = await t.connect('bob', 'phone');
    const dm = directConversationId('alice', 'bob');
    const group = await phone.client.createGroup('pair', ['bob']);

    const sent: SendResult[] = [];
    for (let i = 0; i < 3; i++) sent.push(await phone.client.send(dm, `dm from phone ${i}`));
    sent.push(await bob.client.send(dm, 'reply from bob'));
    for (let i = 0; i < 2; i++) sent.push(await phone.client.send(group.conversationId, `group from phone ${i}`));

    await waitUntil(
      () => laptop.client.getCursor(dm) === 4 && laptop.client.getCursor(group.conversationId) === 3,
      'the laptop to receive everything',
    );
    // The laptop got the phone's own messages (with the phone as sending device) and bob's reply.
    expect(laptop.messageIds(dm)).toEqual(sent.filter((s) => s.conversationId === dm).map((s) => s.clientMessageId));
    expect(
      laptop.delivered
        .filter((d) => d.event.kind === 'message' && d.event.senderUserId === 'alice')
        .every((d) => d.event.kind === 'message' && d.event.senderDeviceId === 'phone'),
    ).toBe(true);
    expect(laptop.seqs(group.conversationId)).toEqual([1, 2, 3]);
    // The sending device itself is not echoed its own messages: it learned their seqs from `sent`.
    expect(phone.messageIds(dm)).toEqual([sent[3]!.clientMessageId]);
    await waitUntil(() => bob.client.getCursor(group.conversationId) === 3, 'bob to receive the group messages');

    // A brand-new device: its inbox starts empty, history brings the past.
    const tablet = await t.connect('alice', 'tablet');
    const dmPage = await tablet.client.history(dm);
    const groupPage = await tablet.client.history(group.conversationId);
    expect(dmPage.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(dmPage.hasMore).toBe(false);
    expect(groupPage.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(tablet.messageIds(dm)).toEqual(sent.filter((s) => s.conversationId === dm).map((s) => s.clientMessageId));
    expect(tablet.seqs(group.conversationId)).toEqual([1, 2, 3]);
    expect(tablet.delivered.every((d) => d.via === 'sync')).toBe(true);

    // And it is a full device from now on: it receives live traffic.
    const live = await bob.client.send(dm, 'welcome, tablet');
    await waitUntil(
      () => tablet.client.getCursor(dm) === live.seq && phone.client.getCursor(dm) === live.seq,
      'the new message on all devices',
    );
    expect(tablet.delivered.at(-1)).toMatchObject({ via: 'live', event: { seq: live.seq } });

    t.quiesce(devicesOf(phone, laptop, tablet, bob));
    t.expectNoViolations();
  });
});

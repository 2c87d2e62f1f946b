import { describe, expect, it } from 'vitest';
import type { ConversationEvent } from '../../core/events.js';
import { groupConversationId, type ConversationId, type DeviceAddress } from '../../core/ids.js';
import type { InboxStore } from '../inbox-store.js';
import {
  bytesBase64,
  chatEvent,
  compareStrings,
  membershipEvent,
  range,
  seqsOf,
  uniqueDevice,
  uniqueDirectId,
  uniqueGroupId,
  uniqueHex,
  uniqueUserId,
  useSubject,
  type Disposable,
} from './support.js';

export interface InboxStoreSubject extends Disposable {
  store: InboxStore;
}

/** The InboxStore contract: idempotent per-device queues, ordered by (conversation, seq), acked cumulatively. */
export function inboxStoreContract(name: string, make: () => Promise<InboxStoreSubject>): void {
  describe(name, () => {
    const subject = useSubject(make);
    const store = () => subject().store;

    async function enqueueAll(device: DeviceAddress, events: ConversationEvent[]) {
      for (const event of events) await store().enqueue(device, event);
    }

    const positions = (events: ConversationEvent[]) => events.map((e) => `${e.conversationId}#${e.seq}`);

    /** Conversation ids sharing a unique prefix, so their relative order is known: a < b < c. */
    function orderedConversations(): { a: ConversationId; between: ConversationId; b: ConversationId; c: ConversationId } {
      const base = uniqueHex();
      return {
        a: groupConversationId(`${base}a0`),
        between: groupConversationId(`${base}b`),
        b: groupConversationId(`${base}b0`),
        c: groupConversationId(`${base}c0`),
      };
    }

    it('an unknown device has an empty inbox', async () => {
      const device = uniqueDevice();
      expect(await store().list(device, 10)).toEqual([]);
      expect(await store().depth(device)).toBe(0);
    });

    it('queued events read back exactly', async () => {
      const device = uniqueDevice();
      const conversationId = uniqueGroupId();
      const events: ConversationEvent[] = [
        membershipEvent(conversationId, 1, { op: 'created', userIds: ['alice', 'bob'], name: 'Ünïcödé 👋' }),
        chatEvent(conversationId, 2, { bodyBase64: Buffer.from(range(0, 255)).toString('base64') }),
        chatEvent(conversationId, 3, {
          bodyBase64: bytesBase64(64 * 1024, 5),
          media: { objectKey: `m/${conversationId}/00ff`, contentType: 'video/mp4', sizeBytes: 1234 },
        }),
      ];
      await enqueueAll(device, events);
      expect(await store().list(device, 10)).toEqual(events);
      expect(await store().depth(device)).toBe(3);
    });

    it('enqueue is idempotent on (device, conversation, seq) and keeps seq order whatever the arrival order', async () => {
      const device = uniqueDevice();
      const conversationId = uniqueGroupId();
      for (const seq of [3, 1, 3, 2, 1, 5, 4, 5]) await store().enqueue(device, chatEvent(conversationId, seq));
      expect(seqsOf(await store().list(device, 100))).toEqual([1, 2, 3, 4, 5]);
      expect(await store().depth(device)).toBe(5);
    });

    it('concurrent enqueues of the same event store it once', async () => {
      const device = uniqueDevice();
      const conversationId = uniqueGroupId();
      await Promise.all(range(1, 10).map(() => store().enqueue(device, chatEvent(conversationId, 1))));
      expect(await store().depth(device)).toBe(1);
    });

    describe('enqueueMany', () => {
      it('queues the event for every listed device, and only for them', async () => {
        const userId = uniqueUserId();
        const phone = { userId, deviceId: 'phone' };
        const laptop = { userId, deviceId: 'laptop' };
        const otherUsers = uniqueDevice();
        const notListed = { userId, deviceId: 'tablet' };
        const conversationId = uniqueGroupId();
        const event = chatEvent(conversationId, 1, { bodyBase64: bytesBase64(300, 3) });
        await store().enqueueMany([phone, laptop, otherUsers], event);
        for (const device of [phone, laptop, otherUsers]) expect(await store().list(device, 10)).toEqual([event]);
        expect(await store().depth(notListed)).toBe(0);
      });

      it('is idempotent: repeated, overlapping and duplicate devices store the event once per device', async () => {
        const [a, b, c] = [uniqueDevice(), uniqueDevice(), uniqueDevice()];
        const conversationId = uniqueGroupId();
        await store().enqueue(b, chatEvent(conversationId, 1));
        await store().enqueueMany([a, b, a], chatEvent(conversationId, 1));
        await store().enqueueMany([c, b, a], chatEvent(conversationId, 1));
        await Promise.all(range(1, 5).map(() => store().enqueueMany([a, c], chatEvent(conversationId, 1))));
        for (const device of [a, b, c]) expect(await store().depth(device)).toBe(1);
      });

      it('events enqueued out of order are listed in seq order, mixed with single enqueues', async () => {
        const [a, b] = [uniqueDevice(), uniqueDevice()];
        const conversationId = uniqueGroupId();
        for (const seq of [3, 1, 4]) await store().enqueueMany([a, b], chatEvent(conversationId, seq));
        await store().enqueue(a, chatEvent(conversationId, 2));
        await store().enqueueMany([b, a], chatEvent(conversationId, 2));
        expect(seqsOf(await store().list(a, 10))).toEqual([1, 2, 3, 4]);
        expect(seqsOf(await store().list(b, 10))).toEqual([1, 2, 3, 4]);
        await store().ackThrough(a, conversationId, 2);
        expect(seqsOf(await store().list(a, 10))).toEqual([3, 4]);
        expect(seqsOf(await store().list(b, 10))).toEqual([1, 2, 3, 4]);
      });

      it('no devices: nothing queued, no failure', async () => {
        await store().enqueueMany([], chatEvent(uniqueGroupId(), 1));
      });
    });

    it('lists pending events ordered by (conversationId, seq)', async () => {
      const device = uniqueDevice();
      const { a, b, c } = orderedConversations();
      const direct = uniqueDirectId();
      const events = [
        chatEvent(c, 1),
        chatEvent(a, 2),
        chatEvent(direct, 7),
        chatEvent(b, 1),
        chatEvent(a, 1),
        chatEvent(c, 2),
        membershipEvent(b, 2),
      ];
      await enqueueAll(device, events);
      const expected = positions([...events].sort((x, y) => compareStrings(x.conversationId, y.conversationId) || x.seq - y.seq));
      expect(positions(await store().list(device, 100))).toEqual(expected);
    });

    it('pages with `limit` and `after` (strictly after the position) cover everything once', async () => {
      const device = uniqueDevice();
      const { a, between, b, c } = orderedConversations();
      await enqueueAll(device, [
        ...range(1, 3).map((s) => chatEvent(a, s)),
        ...range(1, 4).map((s) => chatEvent(b, s)),
        ...range(5, 6).map((s) => chatEvent(c, s)),
      ]);
      const all = positions(await store().list(device, 100));
      expect(all).toEqual([`${a}#1`, `${a}#2`, `${a}#3`, `${b}#1`, `${b}#2`, `${b}#3`, `${b}#4`, `${c}#5`, `${c}#6`]);

      expect(positions(await store().list(device, 2))).toEqual(all.slice(0, 2));
      expect(await store().list(device, 0)).toEqual([]);
      expect(await store().list(device, 0, { conversationId: a, seq: 1 })).toEqual([]);
      expect(positions(await store().list(device, 4, { conversationId: a, seq: 1 }))).toEqual(all.slice(1, 5));
      expect(positions(await store().list(device, 10, { conversationId: a, seq: 3 }))).toEqual(all.slice(3));
      expect(positions(await store().list(device, 10, { conversationId: a, seq: 99 }))).toEqual(all.slice(3));
      // A position in a conversation with nothing queued: continue with the next conversation.
      expect(positions(await store().list(device, 10, { conversationId: between, seq: 0 }))).toEqual(all.slice(3));
      expect(positions(await store().list(device, 10, { conversationId: b, seq: 2 }))).toEqual(all.slice(5));
      expect(positions(await store().list(device, 10, { conversationId: c, seq: 4 }))).toEqual(all.slice(7));
      expect(positions(await store().list(device, 10, { conversationId: c, seq: 6 }))).toEqual([]);

      const paged: string[] = [];
      let after: { conversationId: ConversationId; seq: number } | undefined;
      // Bounded, so a store that repeats events fails the test instead of looping forever.
      for (let pages = 0; pages < 20; pages++) {
        const page = await store().list(device, 2, after);
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(2);
        paged.push(...positions(page));
        const last = page[page.length - 1]!;
        after = { conversationId: last.conversationId, seq: last.seq };
      }
      expect(paged).toEqual(all);
    });

    it('ackThrough removes that conversation’s events with seq <= throughSeq, and nothing else', async () => {
      const device = uniqueDevice();
      const { a, b } = orderedConversations();
      await enqueueAll(device, [...range(1, 5).map((s) => chatEvent(a, s)), ...range(1, 3).map((s) => chatEvent(b, s))]);
      await store().ackThrough(device, a, 0);
      expect(await store().depth(device)).toBe(8);
      await store().ackThrough(device, a, 3);
      expect(positions(await store().list(device, 100))).toEqual([`${a}#4`, `${a}#5`, `${b}#1`, `${b}#2`, `${b}#3`]);
      expect(await store().depth(device)).toBe(5);
      await store().ackThrough(device, a, 2); // lower than before: nothing more to remove
      expect(await store().depth(device)).toBe(5);
      await store().ackThrough(device, a, 100);
      expect(positions(await store().list(device, 100))).toEqual([`${b}#1`, `${b}#2`, `${b}#3`]);
      await store().ackThrough(device, uniqueGroupId(), 10); // a conversation with nothing queued
      expect(await store().depth(device)).toBe(3);
    });

    it('events enqueued after an ack are listed again', async () => {
      const device = uniqueDevice();
      const conversationId = uniqueGroupId();
      await enqueueAll(device, [chatEvent(conversationId, 1), chatEvent(conversationId, 2)]);
      await store().ackThrough(device, conversationId, 2);
      await enqueueAll(device, [chatEvent(conversationId, 3)]);
      expect(seqsOf(await store().list(device, 10))).toEqual([3]);
    });

    it('depth counts every conversation’s pending events', async () => {
      const device = uniqueDevice();
      await enqueueAll(device, [
        ...range(1, 4).map((s) => chatEvent(uniqueGroupId(), s)),
        ...range(1, 3).map((s) => chatEvent(uniqueDirectId(), s)),
      ]);
      expect(await store().depth(device)).toBe(7);
    });

    it('clear drops everything queued for the device', async () => {
      const device = uniqueDevice();
      const other = { userId: device.userId, deviceId: 'laptop' };
      const { a, b } = orderedConversations();
      await enqueueAll(device, [chatEvent(a, 1), chatEvent(b, 1), chatEvent(b, 2)]);
      await enqueueAll(other, [chatEvent(a, 1)]);
      await store().clear(device);
      expect(await store().list(device, 10)).toEqual([]);
      expect(await store().depth(device)).toBe(0);
      expect(await store().depth(other)).toBe(1);
      await store().clear(uniqueDevice()); // unknown device: nothing to do
    });

    it('devices are isolated: other devices of the user, and the same device id of other users', async () => {
      const userId = uniqueUserId();
      const phone = { userId, deviceId: 'phone' };
      const laptop = { userId, deviceId: 'laptop' };
      const someoneElsesPhone = { userId: `${userId}0`, deviceId: 'phone' };
      const lookalike = { userId: `${userId}.phone`, deviceId: 'x' }; // guards against naive key joins
      const conversationId = uniqueGroupId();
      await enqueueAll(phone, [chatEvent(conversationId, 1), chatEvent(conversationId, 2)]);
      await enqueueAll(laptop, [chatEvent(conversationId, 1)]);
      expect(await store().depth(phone)).toBe(2);
      expect(await store().depth(laptop)).toBe(1);
      expect(await store().depth(someoneElsesPhone)).toBe(0);
      expect(await store().depth(lookalike)).toBe(0);
      await store().ackThrough(laptop, conversationId, 1);
      expect(await store().depth(laptop)).toBe(0);
      expect(seqsOf(await store().list(phone, 10))).toEqual([1, 2]);
    });
  });
}

import { describe, expect, it } from 'vitest';
import type { ChatMessageEvent, ConversationEventDraft } from '../../core/events.js';
import type { MessageStore } from '../message-store.js';
import {
  bytesBase64,
  chatDraft,
  membershipDraft,
  range,
  seqsOf,
  uniqueDirectId,
  uniqueGroupId,
  useSubject,
  type Disposable,
} from './support.js';

export interface MessageStoreSubject extends Disposable {
  store: MessageStore;
}

/** The MessageStore contract: gap-free seqs from 1, idempotent chat appends, range reads. */
export function messageStoreContract(name: string, make: () => Promise<MessageStoreSubject>): void {
  describe(name, () => {
    const subject = useSubject(make);
    const store = () => subject().store;

    async function appendAll(drafts: ConversationEventDraft[]) {
      const results = [];
      for (const draft of drafts) results.push(await store().append(draft));
      return results;
    }

    async function conversationWith(n: number) {
      const conversationId = uniqueGroupId();
      await appendAll(range(1, n).map((i) => chatDraft(conversationId, { clientMessageId: `c${i}` })));
      return conversationId;
    }

    it('an empty conversation has lastSeq 0 and no events', async () => {
      const conversationId = uniqueGroupId();
      expect(await store().lastSeq(conversationId)).toBe(0);
      expect(await store().readAfter(conversationId, 0, 10)).toEqual([]);
      expect(await store().readBefore(conversationId, 1, 10)).toEqual([]);
      expect(await store().readBefore(conversationId, 1000, 10)).toEqual([]);
    });

    it('numbers events 1, 2, 3, … without gaps; the stored event is the draft plus its seq', async () => {
      const conversationId = uniqueDirectId();
      const drafts = [
        chatDraft(conversationId),
        membershipDraft(conversationId, { op: 'created', userIds: ['alice', 'bob'], name: 'n' }),
        chatDraft(conversationId, { senderUserId: 'bob' }),
        chatDraft(conversationId),
      ];
      const results = await appendAll(drafts);
      expect(results.map((r) => r.event.seq)).toEqual([1, 2, 3, 4]);
      expect(results.map((r) => r.duplicate)).toEqual([false, false, false, false]);
      results.forEach((r, i) => expect(r.event).toEqual({ ...drafts[i], seq: i + 1 }));
      expect(await store().lastSeq(conversationId)).toBe(4);
      expect(await store().readAfter(conversationId, 0, 10)).toEqual(results.map((r) => r.event));
    });

    it('conversations are numbered independently', async () => {
      const a = uniqueGroupId();
      const b = uniqueGroupId();
      await appendAll([chatDraft(a), chatDraft(a), chatDraft(b), chatDraft(a)]);
      expect(await store().lastSeq(a)).toBe(3);
      expect(await store().lastSeq(b)).toBe(1);
      expect(seqsOf(await store().readAfter(b, 0, 10))).toEqual([1]);
    });

    it('a repeated chat message returns the stored event as a duplicate and consumes no seq', async () => {
      const conversationId = uniqueGroupId();
      const first = await store().append(chatDraft(conversationId, { clientMessageId: 'x', bodyBase64: bytesBase64(8, 1) }));
      // The retry may differ (a new server time; a conflicting body): the stored event wins.
      const retry = await store().append(
        chatDraft(conversationId, { clientMessageId: 'x', bodyBase64: bytesBase64(8, 2), serverTimeMs: first.event.serverTimeMs + 5000 }),
      );
      expect(first.duplicate).toBe(false);
      expect(retry).toEqual({ event: first.event, duplicate: true });
      expect(await store().lastSeq(conversationId)).toBe(1);
      const next = await store().append(chatDraft(conversationId, { clientMessageId: 'y' }));
      expect(next.event.seq).toBe(2);
      expect(next.duplicate).toBe(false);
    });

    it('recognizes a duplicate of an older message, not only the latest', async () => {
      const conversationId = uniqueGroupId();
      const first = await store().append(chatDraft(conversationId, { clientMessageId: 'early' }));
      await appendAll(range(1, 10).map((i) => chatDraft(conversationId, { clientMessageId: `later-${i}` })));
      const retry = await store().append(chatDraft(conversationId, { clientMessageId: 'early' }));
      expect(retry).toEqual({ event: first.event, duplicate: true });
      expect(await store().lastSeq(conversationId)).toBe(11);
    });

    it('the idempotency key is (conversation, sender user, sender device, clientMessageId)', async () => {
      const conversationId = uniqueGroupId();
      const base = { senderUserId: 'alice', senderDeviceId: 'phone', clientMessageId: 'same' };
      const original = await store().append(chatDraft(conversationId, base));
      const otherDevice = await store().append(chatDraft(conversationId, { ...base, senderDeviceId: 'laptop' }));
      const otherUser = await store().append(chatDraft(conversationId, { ...base, senderUserId: 'bob' }));
      const elsewhere = uniqueGroupId();
      const otherConversation = await store().append(chatDraft(elsewhere, base));
      expect([original, otherDevice, otherUser].map((r) => [r.event.seq, r.duplicate])).toEqual([
        [1, false],
        [2, false],
        [3, false],
      ]);
      expect([otherConversation.event.seq, otherConversation.duplicate]).toEqual([1, false]);
      // Each of them is now a key of its own.
      const retryLaptop = await store().append(chatDraft(conversationId, { ...base, senderDeviceId: 'laptop' }));
      expect(retryLaptop).toEqual({ event: otherDevice.event, duplicate: true });
      expect(await store().lastSeq(conversationId)).toBe(3);
    });

    it('membership events are never deduplicated', async () => {
      const conversationId = uniqueGroupId();
      const draft = membershipDraft(conversationId, { op: 'added', userIds: ['carol'] });
      const first = await store().append(draft);
      const second = await store().append({ ...draft });
      expect([first.event.seq, first.duplicate, second.event.seq, second.duplicate]).toEqual([1, false, 2, false]);
      expect(await store().lastSeq(conversationId)).toBe(2);
    });

    it('readAfter returns seq > afterSeq ascending, at most limit', async () => {
      const conversationId = await conversationWith(10);
      const after = async (afterSeq: number, limit: number) => seqsOf(await store().readAfter(conversationId, afterSeq, limit));
      expect(await after(0, 3)).toEqual([1, 2, 3]);
      expect(await after(3, 3)).toEqual([4, 5, 6]);
      expect(await after(5, 1)).toEqual([6]);
      expect(await after(8, 10)).toEqual([9, 10]);
      expect(await after(9, 1)).toEqual([10]);
      expect(await after(10, 5)).toEqual([]);
      expect(await after(25, 5)).toEqual([]);
      expect(await after(0, 100)).toEqual(range(1, 10));
      expect(await after(0, 0)).toEqual([]);
    });

    it('readBefore returns the newest `limit` events with seq < beforeSeq, ascending', async () => {
      const conversationId = await conversationWith(10);
      const before = async (beforeSeq: number, limit: number) => seqsOf(await store().readBefore(conversationId, beforeSeq, limit));
      expect(await before(11, 3)).toEqual([8, 9, 10]);
      expect(await before(6, 1)).toEqual([5]);
      expect(await before(4, 10)).toEqual([1, 2, 3]);
      expect(await before(2, 5)).toEqual([1]);
      expect(await before(1, 5)).toEqual([]);
      expect(await before(1000, 3)).toEqual([8, 9, 10]);
      expect(await before(11, 100)).toEqual(range(1, 10));
      expect(await before(11, 0)).toEqual([]);
    });

    it('paging forward and backward both cover the whole log exactly once', async () => {
      const conversationId = await conversationWith(23);
      const forward: number[] = [];
      // Bounded, so a store that repeats events fails the test instead of looping forever.
      for (let cursor = 0, pages = 0; pages < 20; pages++) {
        const page = await store().readAfter(conversationId, cursor, 5);
        if (page.length === 0) break;
        forward.push(...seqsOf(page));
        cursor = page[page.length - 1]!.seq;
      }
      const backward: number[] = [];
      for (let cursor = (await store().lastSeq(conversationId)) + 1, pages = 0; pages < 20; pages++) {
        const page = await store().readBefore(conversationId, cursor, 5);
        if (page.length === 0) break;
        backward.unshift(...seqsOf(page));
        cursor = page[0]!.seq;
      }
      expect(forward).toEqual(range(1, 23));
      expect(backward).toEqual(range(1, 23));
    });

    it('concurrent appends get distinct, contiguous seqs', async () => {
      const conversationId = uniqueGroupId();
      const drafts: ConversationEventDraft[] = range(1, 50).map((i) =>
        i % 10 === 0 ? membershipDraft(conversationId, { userIds: [`user${i}`] }) : chatDraft(conversationId, { clientMessageId: `c${i}` }),
      );
      const results = await Promise.all(drafts.map((d) => store().append(d)));
      expect(results.every((r) => !r.duplicate)).toBe(true);
      expect(results.map((r) => r.event.seq).sort((a, b) => a - b)).toEqual(range(1, 50));
      expect(await store().lastSeq(conversationId)).toBe(50);
      const stored = await store().readAfter(conversationId, 0, 100);
      expect(seqsOf(stored)).toEqual(range(1, 50));
      const bySeq = new Map(results.map((r) => [r.event.seq, r.event]));
      for (const event of stored) expect(event).toEqual(bySeq.get(event.seq));
    });

    it('concurrent repeats of one chat message store it once', async () => {
      const conversationId = uniqueGroupId();
      const results = await Promise.all(range(1, 10).map(() => store().append(chatDraft(conversationId, { clientMessageId: 'racing' }))));
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(new Set(results.map((r) => r.event.seq))).toEqual(new Set([1]));
      expect(await store().lastSeq(conversationId)).toBe(1);
      expect(await store().readAfter(conversationId, 0, 10)).toHaveLength(1);
    });

    it('bodies, media and membership fields round-trip exactly', async () => {
      const conversationId = uniqueGroupId();
      const allBytes = Buffer.from(range(0, 255)).toString('base64');
      const drafts: ConversationEventDraft[] = [
        chatDraft(conversationId, { bodyBase64: allBytes, serverTimeMs: 1_712_345_678_901 }),
        chatDraft(conversationId, {
          bodyBase64: bytesBase64(64 * 1024, 3),
          media: { objectKey: `m/${conversationId}/0123456789abcdef`, contentType: 'image/jpeg', sizeBytes: 5_242_880 },
        }),
        chatDraft(conversationId, {
          senderUserId: 'user.with-odd_chars',
          senderDeviceId: 'dev.1-a_b',
          clientMessageId: 'id:with.odd-chars_1',
        }),
        membershipDraft(conversationId, {
          op: 'created',
          actorUserId: 'alice',
          userIds: ['alice', 'bob', 'carol'],
          name: 'Ünïcödé 👋 group',
        }),
        membershipDraft(conversationId, { op: 'admin_granted', userIds: ['bob'] }),
        membershipDraft(conversationId, { op: 'left', actorUserId: 'carol', userIds: ['carol'] }),
      ];
      const results = await appendAll(drafts);
      const stored = await store().readAfter(conversationId, 0, 10);
      expect(stored).toEqual(drafts.map((d, i) => ({ ...d, seq: i + 1 })));
      expect(stored).toEqual(results.map((r) => r.event));
      expect((stored[0] as ChatMessageEvent).bodyBase64).toBe(allBytes);
      expect((stored[0] as ChatMessageEvent).media).toBeUndefined();
      expect(await store().readBefore(conversationId, 7, 10)).toEqual(stored);
    });
  });
}

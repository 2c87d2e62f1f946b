import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConversationEvent } from '../core/events.js';
import { directConversationId } from '../core/ids.js';
import { connectDevice, createTestWorld, settle, type InProcessClient } from '../testing/in-process-client.js';

const DM = directConversationId('alice', 'bob');

/** Follows `sync` pages from `afterSeq` until hasMore is false. */
async function syncAll(
  client: InProcessClient,
  conversationId: string,
  limit: number,
  afterSeq = 0,
): Promise<{ events: ConversationEvent[]; pages: number }> {
  const events: ConversationEvent[] = [];
  let cursor = afterSeq;
  for (let pages = 1; pages < 1_000; pages++) {
    const page = await client.requestOk({ type: 'sync', conversationId, afterSeq: cursor, limit }, 'sync_result');
    expect(page.events.length).toBeLessThanOrEqual(limit);
    events.push(...(page.events as ConversationEvent[]));
    if (!page.hasMore) return { events, pages };
    // A page that says "more" must make progress.
    expect(page.events.length).toBeGreaterThan(0);
    cursor = page.events[page.events.length - 1]!.seq;
  }
  throw new Error('sync never ended');
}

/** Follows `history` pages backwards from the newest event until hasMore is false. */
async function historyAll(
  client: InProcessClient,
  conversationId: string,
  limit: number,
): Promise<{ events: ConversationEvent[]; pages: number }> {
  const events: ConversationEvent[] = [];
  let beforeSeq: number | undefined;
  for (let pages = 1; pages < 1_000; pages++) {
    const frame: Record<string, unknown> = { type: 'history', conversationId, limit };
    if (beforeSeq !== undefined) frame.beforeSeq = beforeSeq;
    const page = await client.requestOk(frame, 'history_result');
    expect(page.events.length).toBeLessThanOrEqual(limit);
    // Each page is ascending and entirely older than the previous one.
    const seqs = page.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    if (events.length > 0 && seqs.length > 0) expect(seqs[seqs.length - 1]!).toBeLessThan(events[0]!.seq);
    events.unshift(...(page.events as ConversationEvent[]));
    if (!page.hasMore) return { events, pages };
    expect(page.events.length).toBeGreaterThan(0);
    beforeSeq = page.events[0]!.seq;
  }
  throw new Error('history never ended');
}

describe('SyncService through sessions', () => {
  it('sync after a cursor pages forward with hasMore, without gaps or duplicates', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    const bob = await connectDevice(world, 'bob', 'phone');
    for (let i = 1; i <= 25; i++) await alice.sendMessage(DM, `m${i}`);

    const first = await bob.requestOk({ type: 'sync', conversationId: DM, afterSeq: 0, limit: 10 }, 'sync_result');
    expect(first.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(first).toMatchObject({ hasMore: true, lastSeq: 25, conversationId: DM });
    const { events, pages } = await syncAll(bob, DM, 10);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(pages).toBe(3);

    const fromMiddle = await bob.requestOk({ type: 'sync', conversationId: DM, afterSeq: 20 }, 'sync_result');
    expect(fromMiddle.events.map((e) => e.seq)).toEqual([21, 22, 23, 24, 25]);
    expect(fromMiddle.hasMore).toBe(false);
    const atEnd = await bob.requestOk({ type: 'sync', conversationId: DM, afterSeq: 25 }, 'sync_result');
    expect(atEnd).toMatchObject({ events: [], hasMore: false, lastSeq: 25 });
    const beyond = await bob.requestOk({ type: 'sync', conversationId: DM, afterSeq: 1_000 }, 'sync_result');
    expect(beyond).toMatchObject({ events: [], hasMore: false });
  });

  it('pages are capped at pageEventsMax whatever limit the client asks for', async () => {
    const world = createTestWorld({ limits: { pageEventsMax: 7 } });
    const alice = await connectDevice(world, 'alice', 'phone');
    const bob = await connectDevice(world, 'bob', 'phone');
    for (let i = 1; i <= 10; i++) await alice.sendMessage(DM, `m${i}`);
    const page = await bob.requestOk({ type: 'sync', conversationId: DM, afterSeq: 0, limit: 100 }, 'sync_result');
    expect(page.events).toHaveLength(7);
    expect(page.hasMore).toBe(true);
    const history = await bob.requestOk({ type: 'history', conversationId: DM }, 'history_result');
    expect(history.events.map((e) => e.seq)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(history.hasMore).toBe(true);
  });

  it('history pages backwards from the newest event', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    const bob = await connectDevice(world, 'bob', 'phone');
    for (let i = 1; i <= 25; i++) await alice.sendMessage(DM, `m${i}`);
    const newest = await bob.requestOk({ type: 'history', conversationId: DM, limit: 10 }, 'history_result');
    expect(newest.events.map((e) => e.seq)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    expect(newest.hasMore).toBe(true);
    const older = await bob.requestOk({ type: 'history', conversationId: DM, beforeSeq: 16, limit: 10 }, 'history_result');
    expect(older.events.map((e) => e.seq)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    const oldest = await bob.requestOk({ type: 'history', conversationId: DM, beforeSeq: 6, limit: 10 }, 'history_result');
    expect(oldest.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(oldest.hasMore).toBe(false);
    const { events } = await historyAll(bob, DM, 4);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    const empty = await bob.requestOk({ type: 'history', conversationId: DM, beforeSeq: 1 }, 'history_result');
    expect(empty).toMatchObject({ events: [], hasMore: false });
  });

  it('a device linked later can read its user’s history (but has no inbox backlog)', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    await connectDevice(world, 'bob', 'phone');
    for (let i = 1; i <= 5; i++) await alice.sendMessage(DM, `m${i}`);
    const bobLaptop = await connectDevice(world, 'bob', 'laptop');
    expect(bobLaptop.events()).toEqual([]);
    const history = await bobLaptop.requestOk({ type: 'history', conversationId: DM }, 'history_result');
    expect(history.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    const list = await bobLaptop.requestOk({ type: 'conversations' }, 'conversations_result');
    expect(list.conversations).toEqual([{ conversationId: DM, kind: 'direct', lastSeq: 5 }]);
    // From now on it gets live events like the others.
    await alice.sendMessage(DM, 'm6');
    await settle();
    expect(bobLaptop.seqs(DM)).toEqual([6]);
  });

  it('a sync from the link point starts at the first event accepted after the device was linked', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    await connectDevice(world, 'bob', 'phone');
    for (let i = 1; i <= 9; i++) {
      await alice.sendMessage(DM, `m${i}`);
      await world.clock.advance(10);
    }
    const bobLaptop = await connectDevice(world, 'bob', 'laptop');
    await world.clock.advance(10);
    for (let i = 10; i <= 12; i++) await alice.sendMessage(DM, `m${i}`);
    const fromLink = await bobLaptop.requestOk({ type: 'sync', conversationId: DM, afterSeq: 0, fromLink: true }, 'sync_result');
    expect(fromLink.events.map((e) => e.seq)).toEqual([10, 11, 12]);
    // afterSeq still counts when it is later than the link point.
    const later = await bobLaptop.requestOk({ type: 'sync', conversationId: DM, afterSeq: 11, fromLink: true }, 'sync_result');
    expect(later.events.map((e) => e.seq)).toEqual([12]);
    // A device linked before the conversation began is owed all of it.
    const bobPhone = await connectDevice(world, 'bob', 'phone');
    const all = await bobPhone.requestOk({ type: 'sync', conversationId: DM, afterSeq: 0, fromLink: true }, 'sync_result');
    expect(all.events.map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    // A device linked after the last event is owed nothing yet.
    await world.clock.advance(10);
    const bobWatch = await connectDevice(world, 'bob', 'watch');
    await world.clock.advance(10);
    const none = await bobWatch.requestOk({ type: 'sync', conversationId: DM, afterSeq: 0, fromLink: true }, 'sync_result');
    expect(none).toMatchObject({ events: [], hasMore: false, lastSeq: 12 });
  });

  it('outsiders cannot sync or page history of a conversation', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    await connectDevice(world, 'bob', 'phone');
    const mallory = await connectDevice(world, 'mallory', 'phone');
    await alice.sendMessage(DM, 'secret');
    expect((await mallory.requestError({ type: 'sync', conversationId: DM, afterSeq: 0 })).code).toBe('NOT_A_MEMBER');
    expect((await mallory.requestError({ type: 'history', conversationId: DM })).code).toBe('NOT_A_MEMBER');
    const { conversationId: group } = await alice.requestOk({ type: 'group_create', name: 'g', members: ['bob'] }, 'group_result');
    expect((await mallory.requestError({ type: 'sync', conversationId: group, afterSeq: 0 })).code).toBe('NOT_A_MEMBER');
    expect((await mallory.requestError({ type: 'history', conversationId: group })).code).toBe('NOT_A_MEMBER');
  });

  it('property: paging sync and history returns exactly the member’s readable events, whatever the page size', async () => {
    type Op = 'msg' | 'toggle';
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Op>('msg', 'msg', 'msg', 'toggle'), { minLength: 0, maxLength: 35 }),
        fc.integer({ min: 1, max: 8 }),
        async (ops, pageSize) => {
          const world = createTestWorld();
          const alice = await connectDevice(world, 'alice', 'phone');
          const bob = await connectDevice(world, 'bob', 'phone');
          const { conversationId: group } = await alice.requestOk({ type: 'group_create', name: 'g', members: ['bob'] }, 'group_result');
          const readable = [1];
          let member = true;
          let n = 0;
          for (const op of ops) {
            if (op === 'msg') {
              const { seq } = await alice.sendMessage(group, `m${++n}`);
              if (member) readable.push(seq);
            } else if (member) {
              const { seq } = await alice.requestOk({ type: 'group_remove', conversationId: group, userId: 'bob' }, 'group_result');
              readable.push(seq);
              member = false;
            } else {
              const { seq } = await alice.requestOk({ type: 'group_add', conversationId: group, userIds: ['bob'] }, 'group_result');
              readable.push(seq);
              member = true;
            }
          }
          const synced = await syncAll(bob, group, pageSize);
          expect(synced.events.map((e) => e.seq)).toEqual(readable);
          const paged = await historyAll(bob, group, pageSize);
          expect(paged.events.map((e) => e.seq)).toEqual(readable);
          // Live delivery agrees with what sync says bob may read.
          await settle();
          expect(bob.seqs(group)).toEqual(readable);
        },
      ),
      { numRuns: 60, seed: 42 },
    );
  });
});

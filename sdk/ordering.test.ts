import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConversationEvent } from '../system/core/events.js';
import { Ordering, type Via } from './ordering.js';
import { message } from './testing/harness.js';

const C = 'grp:00000000aa';

/** An Ordering whose sink records deliveries and sync requests. */
function harness(cursors?: Record<string, number>, accept = true) {
  const delivered: Array<{ seq: number; via: Via }> = [];
  const syncs: Array<number | 'link'> = [];
  const ordering = new Ordering(
    {
      deliver: (event: ConversationEvent, via: Via) => delivered.push({ seq: event.seq, via }),
      requestSync: (_conversationId, afterSeq, fromLink) => {
        if (accept) syncs.push(fromLink ? 'link' : afterSeq);
        return accept;
      },
    },
    cursors,
  );
  const live = (seq: number) => ordering.observe(C, seq, message(C, seq), 'live');
  const own = (seq: number) => ordering.observe(C, seq, undefined, 'live');
  const synced = (seq: number) => ordering.observe(C, seq, message(C, seq), 'sync');
  const seqs = () => delivered.map((d) => d.seq);
  return { ordering, delivered, syncs, live, own, synced, seqs };
}

describe('Ordering', () => {
  it('classifies observations', () => {
    const h = harness({ [C]: 2 });
    expect(h.live(2)).toBe('duplicate');
    expect(h.live(3)).toBe('delivered');
    expect(h.live(5)).toBe('buffered');
    expect(h.live(5)).toBe('duplicate');
    expect(h.syncs).toEqual([3]);
    expect(h.ordering.heldSeqs(C)).toEqual([5]);
  });

  it('asks for one sync per gap, however many events pile up behind it', () => {
    const h = harness({ [C]: 0 });
    for (const seq of [3, 4, 6, 9]) h.live(seq);
    expect(h.syncs).toEqual([0]);
    expect(h.seqs()).toEqual([]);
  });

  it('skips holes below the horizon once a sync completes, and re-syncs for later gaps', () => {
    const h = harness({ [C]: 1 });
    h.live(4); // sync #1, horizon 4
    h.live(7); // held after sync #1 started: beyond its horizon
    h.ordering.syncFinished(C, true); // the server had nothing readable for 2-3
    expect(h.seqs()).toEqual([4]);
    expect(h.syncs).toEqual([1, 4]); // 5-6 may still come: ask again
    h.ordering.syncFinished(C, true);
    expect(h.seqs()).toEqual([4, 7]);
    expect(h.ordering.cursor(C)).toBe(7);
  });

  it('once halted hands nothing over and moves no cursor, even a complete sync or a loop halfway; resumed, it picks up where it stopped', () => {
    const h = harness({ [C]: 1 });
    h.live(3);
    h.live(4);
    h.live(5);
    h.ordering.halt();
    expect(h.live(2)).toBe('ignored');
    h.ordering.syncFinished(C, true); // a close's CLOSED is not the server's last word
    expect(h.seqs()).toEqual([]);
    expect(h.ordering.cursor(C)).toBe(1);
    expect(h.ordering.heldSeqs(C)).toEqual([3, 4, 5]);
    h.ordering.resume();
    h.ordering.retryWanted();
    expect(h.syncs).toEqual([1, 1]);
    // Halted from the app's listener halfway through the held run: the rest stays held.
    const halfway = harness({ [C]: 1 });
    const { ordering } = halfway;
    halfway.live(3);
    halfway.live(4);
    halfway.live(5);
    const original = halfway.delivered.push.bind(halfway.delivered);
    halfway.delivered.push = (...items) => {
      const n = original(...items);
      if (items.some((d) => d.seq === 3)) ordering.halt();
      return n;
    };
    halfway.synced(2);
    expect(halfway.seqs()).toEqual([2, 3]);
    expect(ordering.cursor(C)).toBe(3);
    expect(ordering.heldSeqs(C)).toEqual([4, 5]);
  });

  it('keeps an incomplete sync wanted until retried or resumed', () => {
    const h = harness({ [C]: 1 });
    h.live(3);
    h.ordering.syncFinished(C, false);
    expect(h.seqs()).toEqual([]);
    h.ordering.retryWanted();
    expect(h.syncs).toEqual([1, 1]);
  });

  it('leaves a sync wanted when it cannot be sent, and resumes it on reconnect', () => {
    const delivered: number[] = [];
    let online = false;
    const syncs: number[] = [];
    const ordering = new Ordering({
      deliver: (e) => delivered.push(e.seq),
      requestSync: (_c, after) => {
        if (online) syncs.push(after);
        return online;
      },
    });
    ordering.observe(C, 1, message(C, 1), 'live');
    ordering.observe(C, 3, message(C, 3), 'live');
    online = true;
    ordering.resumeAll();
    expect(syncs).toEqual([1]);
  });

  it('starts a cursorless conversation at seq 1 at once', () => {
    const h = harness();
    expect(h.live(1)).toBe('delivered');
    expect(h.syncs).toEqual([]);
    expect(h.ordering.cursor(C)).toBe(1);
  });

  it('starts a cursorless conversation above 1 only after a sync from the link point', () => {
    // Seq 1's live delivery was lost (a gateway died); seq 2 arrives first.
    const h = harness();
    expect(h.live(2)).toBe('buffered');
    expect(h.syncs).toEqual(['link']);
    expect(h.ordering.cursor(C)).toBeUndefined();
    h.synced(1);
    h.synced(2);
    h.ordering.syncFinished(C, true);
    expect(h.seqs()).toEqual([1, 2]);
    expect(h.ordering.cursor(C)).toBe(2);
  });

  it('starts at the lowest held seq when the link point is above it (a device linked mid-conversation)', () => {
    const h = harness();
    h.live(40);
    h.live(42);
    h.ordering.syncFinished(C, true); // the server owes nothing before 40
    expect(h.seqs()).toEqual([40]);
    expect(h.syncs).toEqual(['link', 40]); // 42 came after the link-point sync was asked: 41 may still come
    h.ordering.syncFinished(C, true); // 41 is not readable
    expect(h.seqs()).toEqual([40, 42]);
  });

  it('re-asks the link-point sync after a failed one, and on reconnect', () => {
    const h = harness();
    h.live(5);
    h.ordering.syncFinished(C, false);
    h.ordering.retryWanted();
    h.ordering.syncFinished(C, false);
    h.ordering.resetInFlight();
    h.ordering.resumeAll();
    expect(h.syncs).toEqual(['link', 'link', 'link']);
    expect(h.seqs()).toEqual([]);
  });

  it('holds own sends of a cursorless conversation until the link-point sync brings what precedes them', () => {
    const h = harness();
    expect(h.own(6)).toBe('buffered');
    expect(h.syncs).toEqual(['link']);
    expect(h.ordering.cursor(C)).toBeUndefined();
    for (const seq of [4, 5, 6]) h.synced(seq);
    h.ordering.syncFinished(C, true);
    expect(h.seqs()).toEqual([4, 5]); // our own 6 is observed, not handed over
    expect(h.ordering.cursor(C)).toBe(6);
  });

  it('starts a cursorless conversation at an own send of seq 1', () => {
    const h = harness();
    expect(h.own(1)).toBe('delivered');
    expect(h.ordering.cursor(C)).toBe(1);
    expect(h.seqs()).toEqual([]);
  });

  it('waits for an unacknowledged own send before starting, even after the link-point sync', () => {
    let pending = true;
    const delivered: number[] = [];
    const syncs: Array<number | 'link'> = [];
    const ordering = new Ordering({
      deliver: (e) => delivered.push(e.seq),
      requestSync: (_c, after, fromLink) => syncs.push(fromLink ? 'link' : after) > 0,
      hasPendingSend: () => pending,
    });
    ordering.observe(C, 3, message(C, 3), 'live');
    expect(syncs).toEqual([]); // our send may be seq 2: nothing starts yet
    pending = false;
    ordering.observe(C, 2, undefined, 'live'); // our send got seq 2
    expect(syncs).toEqual(['link']);
    ordering.observe(C, 1, message(C, 1), 'sync');
    ordering.syncFinished(C, true);
    expect(delivered).toEqual([1, 3]);
    expect(ordering.cursor(C)).toBe(3);
  });

  it('property: in order, no duplicates, nothing readable missing, whatever the network does', () => {
    const scenario = fc.record({
      n: fc.integer({ min: 1, max: 40 }),
      // undefined: the device has a cursor at 0; a number: a fresh device linked before that seq
      linkFrom: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
      invisible: fc.uniqueArray(fc.integer({ min: 2, max: 40 }), { maxLength: 8 }),
      own: fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 8 }),
      steps: fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant('push' as const), seq: fc.integer({ min: 1, max: 40 }) }),
          fc.record({ kind: fc.constant('answer' as const), page: fc.integer({ min: 1, max: 10 }) }),
          fc.record({ kind: fc.constant('drop' as const) }),
        ),
        { maxLength: 80 },
      ),
    });
    fc.assert(
      fc.property(scenario, ({ n, linkFrom, invisible, own, steps }) => {
        const owedFrom = linkFrom ?? 1;
        const hidden = new Set(invisible.filter((s) => s <= n));
        const mine = new Set(own.filter((s) => s <= n && !hidden.has(s)));
        const readable = (s: number) => s >= owedFrom && s <= n && !hidden.has(s);
        const delivered: number[] = [];
        const pending: number[] = [];
        const ordering = new Ordering(
          {
            deliver: (e) => delivered.push(e.seq),
            requestSync: (_c, after, fromLink) => {
              pending.push(fromLink ? owedFrom - 1 : after);
              return true;
            },
          },
          linkFrom === undefined ? { [C]: 0 } : undefined,
        );
        let maxObserved = 0;
        const observe = (seq: number, via: Via) => {
          maxObserved = Math.max(maxObserved, seq);
          // The server never pushes our own message back; sync does return it.
          if (mine.has(seq) && via === 'live') ordering.observe(C, seq, undefined, via);
          else ordering.observe(C, seq, message(C, seq), via);
        };
        const answer = (page: number) => {
          const after = pending.shift()!;
          const events = [];
          for (let s = after + 1; s <= n && events.length < page; s++) if (readable(s)) events.push(s);
          for (const s of events) observe(s, 'sync');
          const last = events.at(-1);
          const more = last !== undefined && [...Array(n - last).keys()].some((i) => readable(last + 1 + i));
          if (more) pending.push(last);
          else ordering.syncFinished(C, true);
        };
        for (const step of steps) {
          if (step.kind === 'push' && readable(step.seq)) observe(step.seq, 'live');
          if (step.kind === 'answer' && pending.length > 0) answer(step.page);
          if (step.kind === 'drop') {
            pending.length = 0;
            ordering.resetInFlight();
            ordering.resumeAll();
          }
          expect(pending.length).toBeLessThanOrEqual(1); // once per gap
        }
        while (pending.length > 0) answer(10);

        // In order, each once.
        for (let i = 1; i < delivered.length; i++) expect(delivered[i]!).toBeGreaterThan(delivered[i - 1]!);
        // Nothing readable up to the highest seq observed is missing (own sends count as seen).
        for (let s = owedFrom; s <= maxObserved; s++) {
          if (readable(s) && !mine.has(s)) expect(delivered).toContain(s);
        }
        expect(ordering.cursor(C)).toBe(maxObserved === 0 ? (linkFrom === undefined ? 0 : undefined) : maxObserved);
        expect(ordering.heldSeqs(C)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});

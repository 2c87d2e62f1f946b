import { describe, expect, it } from 'vitest';
import { ChatError } from '../../core/errors.js';
import type { PresenceState } from '../../ports/presence-store.js';
import { ManualClock } from '../virtual/manual-clock.js';
import { RereadingPresenceWatches } from './rereading-presence-watches.js';

const settle = () => new Promise((resolve) => setImmediate(resolve));
const quiet = { warn: () => undefined, error: () => undefined };

/** A store whose state the test sets, and whose reads can be made to fail. */
function fakeStore() {
  const state = { online: false, failing: false, reads: 0 };
  const signals = new Map<string, () => void>();
  const read = async (userId: string): Promise<PresenceState> => {
    state.reads++;
    if (state.failing) throw new ChatError('STORAGE_UNAVAILABLE', 'redis is out');
    return { userId, online: state.online };
  };
  const source = {
    subscribe: (userId: string, signal: () => void) => {
      signals.set(userId, signal);
      return { release: () => signals.delete(userId) };
    },
  };
  return { state, signals, read, source };
}

describe('RereadingPresenceWatches', () => {
  it('tells listeners what the store holds when they read it, not what signals said, and no repeats', async () => {
    const store = fakeStore();
    const watches = new RereadingPresenceWatches(store.read, store.source, new ManualClock(), quiet);
    const heard: boolean[] = [];
    watches.watch('bob', (s) => heard.push(s.online));
    await settle(); // the baseline (offline): nothing to tell
    // A paused process wakes to two signals: bob went online, then offline, then online again.
    store.state.online = true;
    store.signals.get('bob')!();
    store.signals.get('bob')!();
    store.signals.get('bob')!();
    await settle();
    expect(heard).toEqual([true]);
    store.signals.get('bob')!(); // a duplicate signal: same state, nothing heard
    await settle();
    expect(heard).toEqual([true]);
    expect(store.state.reads).toBeLessThanOrEqual(4); // signals during a read coalesce into one more
  });

  it('a re-read that fails is tried again (250 ms, doubling) until one succeeds', async () => {
    const store = fakeStore();
    const clock = new ManualClock();
    const watches = new RereadingPresenceWatches(store.read, store.source, clock, quiet);
    const heard: boolean[] = [];
    watches.watch('bob', (s) => heard.push(s.online));
    await settle();
    store.state.failing = true;
    store.state.online = true;
    store.signals.get('bob')!();
    await settle();
    const readsAfterSignal = store.state.reads;
    await clock.advance(250); // first retry: fails again
    expect(store.state.reads).toBe(readsAfterSignal + 1);
    await clock.advance(499); // the next waits 500 ms
    expect(store.state.reads).toBe(readsAfterSignal + 1);
    store.state.failing = false;
    await clock.advance(1);
    expect(heard).toEqual([true]);
    await clock.advance(60_000); // nothing more once a read succeeded
    expect(store.state.reads).toBe(readsAfterSignal + 2);
  });

  it('an unwatched user is released and its retry cancelled', async () => {
    const store = fakeStore();
    const clock = new ManualClock();
    const watches = new RereadingPresenceWatches(store.read, store.source, clock, quiet);
    const stop = watches.watch('bob', () => undefined);
    await settle();
    store.state.failing = true;
    store.signals.get('bob')!();
    await settle();
    const reads = store.state.reads;
    stop();
    expect(store.signals.has('bob')).toBe(false);
    expect(watches.watchedUserCount).toBe(0);
    await clock.advance(60_000);
    expect(store.state.reads).toBe(reads);
  });

  it('after the store came back (maybe empty), "offline" is held for the hold, "online" told at once, then everyone read again', async () => {
    const store = fakeStore();
    const clock = new ManualClock();
    const watches = new RereadingPresenceWatches(store.read, store.source, clock, quiet);
    const heard: boolean[] = [];
    store.state.online = true;
    watches.watch('bob', (s) => heard.push(s.online));
    await settle(); // baseline: online
    store.state.online = false; // Redis restarted empty: bob's entry is gone until his gateway puts it back
    watches.storeRecovered(30_000);
    await settle();
    store.signals.get('bob')!();
    await clock.advance(29_000);
    expect(heard).toEqual([]);
    await clock.advance(1_000); // the hold is over and bob's entry never came back: he is offline
    await settle();
    expect(heard).toEqual([false]);
    watches.storeRecovered(30_000);
    store.state.online = true;
    store.signals.get('bob')!();
    await settle();
    expect(heard).toEqual([false, true]);
  });
});

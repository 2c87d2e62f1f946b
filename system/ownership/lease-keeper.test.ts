/**
 * LeaseKeeper on a ManualClock and a MemoryLeaseStore: taking, renewing, handing back and losing
 * slot leases, the timing rules of fencing.ts as the keeper applies them, the write timestamps it
 * hands out, and routing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLeaseStore } from '../adapters/memory/memory-lease-store.js';
import { ManualClock } from '../adapters/virtual/manual-clock.js';
import type { Clock } from '../ports/clock.js';
import type { LeaseStore, SlotLease } from '../ports/lease-store.js';
import { silentLogger } from '../ports/logger.js';
import { LeaseKeeper, type OwnershipSettings } from './lease-keeper.js';
import { preferredOwner } from './slot-map.js';
import { ControlledLeaseStore } from './testing/controlled-lease-store.js';

const SETTINGS: OwnershipSettings = {
  slotCount: 8,
  leaseMs: 1_000,
  serveMarginMs: 200,
  clockSkewMs: 100,
  tickMs: 100,
  nodeTtlMs: 400,
};
const ALL_SLOTS = [0, 1, 2, 3, 4, 5, 6, 7];

const keepers: LeaseKeeper[] = [];
afterEach(async () => {
  // Stop ticking (releases are harmless here; frozen stores are never resumed).
  for (const keeper of keepers.splice(0)) void keeper.stop();
});

function keeper(nodeId: string, clock: Clock, store: LeaseStore, settings = SETTINGS): LeaseKeeper {
  const k = new LeaseKeeper({ clock, log: silentLogger, store, nodeId }, settings);
  keepers.push(k);
  return k;
}

/** Advances the manual clock to `atMs`, firing the keepers' timers on the way. */
async function advanceTo(clock: ManualClock, atMs: number): Promise<void> {
  await clock.advance(atMs - clock.nowMs());
}

async function leaseOf(store: LeaseStore, slot: number): Promise<SlotLease> {
  const lease = (await store.readAll()).find((l) => l.slot === slot);
  if (!lease) throw new Error(`slot ${slot} was never leased`);
  return lease;
}

/** A conversation id in `slot`. */
function conversationIn(k: LeaseKeeper, slot: number): string {
  for (let i = 0; ; i++) if (k.slotOf(`grp:conv${i}`) === slot) return `grp:conv${i}`;
}

describe('LeaseKeeper', () => {
  it('a lone node takes every slot on start, serves them, and keeps them by renewing', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore(clock);
    const a = keeper('a', clock, store);
    const t0 = clock.nowMs();
    await a.start();
    expect(a.heldSlots()).toEqual(ALL_SLOTS);
    for (const slot of ALL_SLOTS) {
      expect(await leaseOf(store, slot)).toMatchObject({ owner: 'a', epoch: 1, expiresAtMs: t0 + SETTINGS.leaseMs });
      expect(a.servingLease(slot)).toMatchObject({ epoch: 1, floorUs: 0, expiresAtMs: t0 + SETTINGS.leaseMs });
      expect(a.servingLease(slot)!.ceilingUs).toBeGreaterThanOrEqual((t0 + SETTINGS.leaseMs) * 1000);
    }
    // Ten lease lengths later (ticks every tickMs), still the owner at the same epoch, renewed.
    await advanceTo(clock, t0 + 10 * SETTINGS.leaseMs);
    expect(a.heldSlots()).toEqual(ALL_SLOTS);
    for (const slot of ALL_SLOTS) {
      const lease = await leaseOf(store, slot);
      expect(lease).toMatchObject({ owner: 'a', epoch: 1 });
      expect(lease.expiresAtMs).toBeGreaterThan(clock.nowMs() + SETTINGS.leaseMs / 2 - SETTINGS.tickMs);
      expect(a.servingLease(slot)?.epoch).toBe(1);
    }
  });

  it('a node joining gets its preferred slots once the holder hands them back, and not before the skew margin has passed', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore(clock);
    const a = keeper('a', clock, store);
    await a.start();
    const b = keeper('b', clock, store);
    const forB = ALL_SLOTS.filter((slot) => preferredOwner(slot, ['a', 'b']) === 'b');
    const forA = ALL_SLOTS.filter((slot) => !forB.includes(slot));
    expect(forB.length).toBeGreaterThan(0); // with these ids and 8 slots; a split is what the test is about
    // b announces itself; a's leases are live, so b takes nothing yet.
    await b.start();
    expect(b.heldSlots()).toEqual([]);
    // a's next tick sees b and hands back b's slots: their lease ends now.
    const handedAt = clock.nowMs() + 1;
    await advanceTo(clock, handedAt);
    await a.refresh();
    expect(a.heldSlots()).toEqual(forA);
    for (const slot of forB) expect(await leaseOf(store, slot)).toMatchObject({ owner: 'a', epoch: 1, expiresAtMs: handedAt });
    // b may take them only at expiry + clockSkewMs.
    await advanceTo(clock, handedAt + SETTINGS.clockSkewMs - 1);
    await b.refresh();
    expect(b.heldSlots()).toEqual([]);
    // b's own timer is set for that moment (not the next regular tick).
    await advanceTo(clock, handedAt + SETTINGS.clockSkewMs);
    expect(b.heldSlots()).toEqual(forB);
    for (const slot of forB) {
      const previous = await leaseOf(store, slot);
      expect(previous).toMatchObject({ owner: 'b', epoch: 2 });
      expect(b.servingLease(slot)?.floorUs).toBeGreaterThan(0);
    }
    expect(a.heldSlots()).toEqual(forA);
  });

  it('a node that stops renewing stops serving at expiresAt − serveMarginMs; another takes over only at expiresAt + clockSkewMs', async () => {
    const clock = new ManualClock();
    const leases = new MemoryLeaseStore(clock);
    const aStore = new ControlledLeaseStore(leases);
    const a = keeper('a', clock, aStore);
    await a.start();
    const slot = 3;
    // a freezes: its tick hangs on the store, so it neither renews nor heartbeats (a pause).
    aStore.frozen = true;
    void a.refresh();
    const lease = await leaseOf(leases, slot);
    const aLease = a.servingLease(slot)!;
    expect(aLease.expiresAtMs).toBe(lease.expiresAtMs);
    const b = keeper('b', clock, leases);
    await b.start();
    expect(b.heldSlots()).toEqual([]);
    const conversation = conversationIn(b, slot);
    expect(b.route(conversation)).toEqual({ local: false, nodeId: 'a' });

    await advanceTo(clock, lease.expiresAtMs - SETTINGS.serveMarginMs - 1);
    expect(a.servingLease(slot)).toBeDefined();
    expect(a.writeTimestamp(slot, aLease.epoch)).toBeDefined();
    expect(a.route(conversation)).toEqual({ local: true });
    await advanceTo(clock, lease.expiresAtMs - SETTINGS.serveMarginMs);
    expect(a.servingLease(slot)).toBeUndefined();
    expect(a.writeTimestamp(slot, aLease.epoch)).toBeUndefined();
    // a's lease has not ended: others still see a as the owner; a itself sees no owner it may
    // use, and (its store calls hanging for more than three ticks) says it cannot know.
    expect(a.route(conversation)).toEqual({ local: false, nodeId: undefined, unknown: true });
    expect(b.route(conversation)).toEqual({ local: false, nodeId: 'a' });

    await advanceTo(clock, lease.expiresAtMs + SETTINGS.clockSkewMs - 1);
    await b.refresh();
    expect(b.heldSlots()).toEqual([]);
    expect(b.route(conversation)).toEqual({ local: false, nodeId: undefined });
    await advanceTo(clock, lease.expiresAtMs + SETTINGS.clockSkewMs);
    await b.refresh();
    expect(b.heldSlots()).toEqual(ALL_SLOTS);
    const taken = await leaseOf(leases, slot);
    expect(taken).toMatchObject({ owner: 'b', epoch: 2 });
    // b's timestamps start above every one a's lease allowed.
    expect(b.servingLease(slot)!.floorUs).toBe(lease.ceilingUs);
    const first = b.writeTimestamp(slot, 2)!;
    expect(first).toBeGreaterThan(lease.ceilingUs);
    expect(b.route(conversation)).toEqual({ local: true });

    // a wakes up: its first tick sees the slot taken and drops it (listeners hear of it).
    const lost: number[] = [];
    a.onLost((s) => lost.push(s));
    aStore.unfreeze();
    await a.refresh();
    await a.refresh();
    expect(a.heldSlots()).toEqual([]);
    expect(lost.sort((x, y) => x - y)).toEqual(ALL_SLOTS);
    expect(a.route(conversation)).toEqual({ local: false, nodeId: 'b' });
  });

  it('writeTimestamp: strictly increasing (also when the clock steps back), above the floor, under the lease epoch only', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore(clock);
    const a = keeper('a', clock, store, { ...SETTINGS, slotCount: 2 });
    await a.start();
    const lease = a.servingLease(0)!;
    const stamps: number[] = [];
    for (let i = 0; i < 50; i++) {
      const us = a.writeTimestamp(i % 2, lease.epoch);
      expect(us).toBeDefined();
      stamps.push(us!);
      if (i % 10 === 0) await clock.advance(7);
    }
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]!).toBeGreaterThan(stamps[i - 1]!);
    expect(stamps[0]!).toBeGreaterThan(lease.floorUs);
    expect(Math.max(...stamps)).toBeLessThan(lease.ceilingUs);
    expect(a.writeTimestamp(0, lease.epoch + 1)).toBeUndefined();
    expect(a.writeTimestamp(0, lease.epoch - 1)).toBeUndefined();
    // A clock that steps back does not make timestamps go back.
    let offsetMs = 0;
    const stepping: Clock = { nowMs: () => clock.nowMs() + offsetMs, setTimer: (d, cb) => clock.setTimer(d, cb) };
    const b = keeper('b', stepping, new MemoryLeaseStore(stepping), { ...SETTINGS, slotCount: 1 });
    await b.start();
    const bLease = b.servingLease(0)!;
    const x = b.writeTimestamp(0, bLease.epoch)!;
    offsetMs = -SETTINGS.clockSkewMs;
    expect(b.writeTimestamp(0, bLease.epoch)).toBe(x + 1);
  });

  it('writeTimestamp: never at or above the lease ceiling (a slot taken over from a lease with a high ceiling pushes the shared counter)', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore(clock);
    const now = clock.nowMs();
    // Slot 0 was held by a node whose lease promised timestamps far above our clock (say its
    // clock ran ahead); it has ended. Slot 1 was never leased.
    const highCeilingUs = (now + 60_000) * 1000;
    await store.take({ slot: 0, owner: 'x', epoch: 4, expiresAtMs: now - 10_000, ceilingUs: highCeilingUs }, undefined);
    const a = keeper('a', clock, store, { ...SETTINGS, slotCount: 2 });
    await a.start();
    const slot0 = a.servingLease(0)!;
    const slot1 = a.servingLease(1)!;
    expect(slot0).toMatchObject({ epoch: 5, floorUs: highCeilingUs });
    expect(slot0.ceilingUs).toBeGreaterThan(highCeilingUs);
    expect(slot1).toMatchObject({ epoch: 1, floorUs: 0 });
    expect(slot1.ceilingUs).toBeLessThan(highCeilingUs);
    // Slot 0's writes start above its floor…
    expect(a.writeTimestamp(0, 5)).toBe(highCeilingUs + 1);
    // …and the node's counter is shared, so slot 1's next one would pass slot 1's ceiling: refused.
    expect(a.writeTimestamp(1, 1)).toBeUndefined();
    expect(a.servingLease(1)).toBeDefined();
    // The next renewal promises a ceiling above the counter, and slot 1 writes again.
    await advanceTo(clock, slot1.expiresAtMs - SETTINGS.leaseMs / 2 + 1);
    await a.refresh();
    expect(a.servingLease(1)!.ceilingUs).toBeGreaterThan(highCeilingUs);
    const next = a.writeTimestamp(1, 1)!;
    expect(next).toBeGreaterThan(highCeilingUs + 1);
    expect(next).toBeLessThan(a.servingLease(1)!.ceilingUs);
  });

  it('a renewal the store refuses (a takeover won the race) drops the slot at once', async () => {
    const clock = new ManualClock();
    const leases = new MemoryLeaseStore(clock);
    const aStore = new ControlledLeaseStore(leases);
    const a = keeper('a', clock, aStore, { ...SETTINGS, slotCount: 2 });
    const lost: number[] = [];
    a.onLost((slot) => lost.push(slot));
    await a.start();
    expect(a.heldSlots()).toEqual([0, 1]);
    aStore.refuseExtend = true;
    // Just before the renewal point nothing happens; at it the renewal is refused and both go.
    const expiresAt = a.servingLease(0)!.expiresAtMs;
    await advanceTo(clock, expiresAt - SETTINGS.leaseMs / 2 - SETTINGS.tickMs);
    expect(a.heldSlots()).toEqual([0, 1]);
    await advanceTo(clock, expiresAt - SETTINGS.leaseMs / 2 + SETTINGS.tickMs);
    expect(a.heldSlots()).toEqual([]);
    expect(lost.sort()).toEqual([0, 1]);
    expect(a.servingLease(0)).toBeUndefined();
    expect(a.writeTimestamp(0, 1)).toBeUndefined();
  });

  it('a renewal whose outcome is unknown keeps serving only under the old expiry', async () => {
    const clock = new ManualClock();
    const leases = new MemoryLeaseStore(clock);
    let failing = false;
    const flaky: LeaseStore = {
      readAll: () => leases.readAll(),
      take: (next, expected) => leases.take(next, expected),
      heartbeat: (id, ttl) => leases.heartbeat(id, ttl),
      liveNodes: () => leases.liveNodes(),
      leave: (id) => leases.leave(id),
      // Applied, but the answer is lost.
      extend: async (...args) => {
        const applied = await leases.extend(...args);
        if (failing) throw new Error('timed out');
        return applied;
      },
    };
    const a = keeper('a', clock, flaky, { ...SETTINGS, slotCount: 1 });
    await a.start();
    const first = a.servingLease(0)!;
    failing = true;
    await advanceTo(clock, first.expiresAtMs - SETTINGS.leaseMs / 2 + 1);
    await a.refresh();
    // The store moved on; the node still counts with the old, earlier end.
    expect((await leaseOf(leases, 0)).expiresAtMs).toBeGreaterThan(first.expiresAtMs);
    expect(a.servingLease(0)?.expiresAtMs).toBe(first.expiresAtMs);
    await advanceTo(clock, first.expiresAtMs - SETTINGS.serveMarginMs - 1);
    expect(a.servingLease(0)).toBeDefined();
    failing = false;
    await a.refresh();
    expect(a.servingLease(0)!.expiresAtMs).toBeGreaterThan(first.expiresAtMs);
  });

  it('route: local while serving, the owner while its lease lasts, none during a takeover', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore(clock);
    const a = keeper('a', clock, store, { ...SETTINGS, slotCount: 1 });
    const b = keeper('b', clock, store, { ...SETTINGS, slotCount: 1 });
    const conversation = 'grp:routing';
    // Before anyone read the leases: nobody known, and the leases were never read.
    expect(b.route(conversation)).toEqual({ local: false, nodeId: undefined, unknown: true });
    await a.start();
    const owner = preferredOwner(0, ['a']);
    expect(owner).toBe('a');
    await b.start();
    const preferred = preferredOwner(0, ['a', 'b'])!;
    const other = preferred === 'a' ? b : a;
    const holder = a.heldSlots().length > 0 ? a : b;
    expect(holder.route(conversation)).toEqual({ local: true });
    expect((holder === a ? b : a).route(conversation)).toEqual({ local: false, nodeId: holder.nodeId });
    // Let the slot settle on its preferred owner (a hands it back if b is preferred).
    await clock.advance(SETTINGS.leaseMs * 3);
    const settled = preferred === 'a' ? a : b;
    expect(settled.route(conversation)).toEqual({ local: true });
    expect(other.route(conversation)).toEqual({ local: false, nodeId: preferred });
    // The owner stops and hands the slot back: no owner until the other takes it.
    await settled.stop();
    await other.refresh();
    expect(other.route(conversation)).toEqual({ local: false, nodeId: undefined });
    // stop() takes the node off the live list before it hands its slots back, so the other node
    // is preferred at once and takes the slot after the skew margin, not after the stopped node's
    // heartbeat would have run out.
    await clock.advance(SETTINGS.clockSkewMs);
    await other.refresh();
    expect(other.route(conversation)).toEqual({ local: true });
  });
});

import { describe, expect, it } from 'vitest';
import type { UserId } from '../../core/ids.js';
import type { PresenceState, PresenceStore } from '../presence-store.js';
import { eventually, uniqueUserId, useSubject, type Disposable, type TimeControl } from './support.js';

export interface PresenceStoreSubject extends Disposable, TimeControl {
  store: PresenceStore;
  /** The clock the store reads (lastSeenMs is checked against it). */
  nowMs(): number;
  /** TTL the suite marks devices online with; keep it small for real services (default 1000). */
  ttlMs?: number;
  /** How long to wait before concluding that no (further) notification comes (default ttlMs / 10). */
  settleMs?: number;
  /** How long an expected change (expiry, notification) may take to show after the suite has advanced time past it (default 2000). */
  eventuallyTimeoutMs?: number;
}

/**
 * The PresenceStore contract: a user is online while any device has an unexpired entry; watchers
 * hear each change of the online flag once; lastSeenMs is the last heartbeat or disconnect.
 */
export function presenceStoreContract(name: string, make: () => Promise<PresenceStoreSubject>): void {
  describe(name, () => {
    const subject = useSubject(make);
    const store = () => subject().store;
    const ttl = () => subject().ttlMs ?? 1000;
    const advance = (ms: number) => subject().advance(ms);
    const settle = () => advance(subject().settleMs ?? ttl() / 10);
    const timeout = () => subject().eventuallyTimeoutMs ?? 2000;
    const now = () => subject().nowMs();

    const online = async (userId: UserId) => (await store().get(userId)).online;

    /** Runs `action` and returns the clock readings around it. */
    async function during(action: () => Promise<void>): Promise<{ from: number; to: number }> {
      const from = now();
      await action();
      return { from, to: now() };
    }

    function expectWithin(value: number | undefined, window: { from: number; to: number }): void {
      expect(value).toBeDefined();
      expect(value!).toBeGreaterThanOrEqual(window.from);
      expect(value!).toBeLessThanOrEqual(window.to);
    }

    /** Starts watching and waits until the watch is surely in place (subscriptions may be async). */
    async function watch(userId: UserId) {
      const states: PresenceState[] = [];
      const unsubscribe = store().watch(userId, (state) => states.push(state));
      await settle();
      return { states, flags: () => states.map((s) => s.online), unsubscribe };
    }

    it('a user never seen is offline, with no lastSeenMs', async () => {
      const userId = uniqueUserId();
      const state = await store().get(userId);
      expect(state).toEqual({ userId, online: false });
      expect(state.lastSeenMs).toBeUndefined();
    });

    it('markOnline makes the user online; markOffline makes them offline', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      await store().markOnline(device, ttl());
      expect(await store().get(device.userId)).toMatchObject({ userId: device.userId, online: true });
      await store().markOffline(device);
      expect(await store().get(device.userId)).toMatchObject({ userId: device.userId, online: false });
    });

    it('a user stays online until the last device goes', async () => {
      const userId = uniqueUserId();
      const phone = { userId, deviceId: 'phone' };
      const laptop = { userId, deviceId: 'laptop' };
      await store().markOnline(phone, ttl());
      await store().markOnline(laptop, ttl());
      await store().markOffline(phone);
      expect(await online(userId)).toBe(true);
      await store().markOffline(phone); // again: no effect
      expect(await online(userId)).toBe(true);
      await store().markOffline(laptop);
      expect(await online(userId)).toBe(false);
    });

    it('users are independent, even when their ids share a prefix', async () => {
      const userId = uniqueUserId();
      await store().markOnline({ userId: `${userId}0`, deviceId: 'phone' }, ttl());
      await store().markOnline({ userId: `${userId}.phone`, deviceId: 'x' }, ttl());
      expect(await online(userId)).toBe(false);
      expect(await online(`${userId}0`)).toBe(true);
    });

    it('the TTL expiring turns the user offline', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      await store().markOnline(device, ttl());
      await advance(ttl() / 2);
      expect(await online(device.userId)).toBe(true);
      await advance(ttl());
      await eventually(async () => expect(await online(device.userId)).toBe(false), timeout());
    });

    it('a heartbeat (markOnline again) refreshes the TTL', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      await store().markOnline(device, ttl());
      await advance(ttl() * 0.6);
      await store().markOnline(device, ttl());
      await advance(ttl() * 0.6);
      expect(await online(device.userId)).toBe(true);
      await advance(ttl() * 0.6);
      await eventually(async () => expect(await online(device.userId)).toBe(false), timeout());
    });

    it('with several devices, the user turns offline when the last entry expires', async () => {
      const userId = uniqueUserId();
      await store().markOnline({ userId, deviceId: 'phone' }, ttl());
      await advance(ttl() * 0.6);
      await store().markOnline({ userId, deviceId: 'laptop' }, ttl());
      await advance(ttl() * 0.6); // the phone's entry has expired, the laptop's has not
      expect(await online(userId)).toBe(true);
      await advance(ttl() * 0.6);
      await eventually(async () => expect(await online(userId)).toBe(false), timeout());
    });

    it('watchers hear changes of the online flag only, not repeats', async () => {
      const userId = uniqueUserId();
      const phone = { userId, deviceId: 'phone' };
      const laptop = { userId, deviceId: 'laptop' };
      const watcher = await watch(userId);
      await store().markOnline(phone, ttl());
      await eventually(() => expect(watcher.flags()).toEqual([true]), timeout());
      await store().markOnline(phone, ttl()); // heartbeat
      await store().markOnline(laptop, ttl()); // another device
      await store().markOffline(phone); // one device of two
      await settle();
      expect(watcher.flags()).toEqual([true]);
      await store().markOffline(laptop);
      await eventually(() => expect(watcher.flags()).toEqual([true, false]), timeout());
      await store().markOffline(laptop);
      await store().markOffline(phone);
      await settle();
      expect(watcher.flags()).toEqual([true, false]);
      expect(watcher.states.every((s) => s.userId === userId)).toBe(true);
      watcher.unsubscribe();
    });

    it('watchers hear the TTL expiring', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      const watcher = await watch(device.userId);
      await store().markOnline(device, ttl());
      await eventually(() => expect(watcher.flags()).toEqual([true]), timeout());
      await advance(ttl() * 1.5);
      await eventually(() => expect(watcher.flags()).toEqual([true, false]), timeout());
      watcher.unsubscribe();
    });

    it('marking offline a device that is not online changes nothing and notifies nobody', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      const watcher = await watch(device.userId);
      await store().markOffline(device);
      await settle();
      expect(watcher.flags()).toEqual([]);
      expect(await online(device.userId)).toBe(false);
      watcher.unsubscribe();
    });

    it('watchers of other users hear nothing', async () => {
      const userId = uniqueUserId();
      const watcher = await watch(userId);
      await store().markOnline({ userId: `${userId}0`, deviceId: 'phone' }, ttl());
      await store().markOffline({ userId: `${userId}0`, deviceId: 'phone' });
      await settle();
      expect(watcher.flags()).toEqual([]);
      watcher.unsubscribe();
    });

    it('unsubscribe stops notifications to that listener only', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      const leaving = await watch(device.userId);
      const staying = await watch(device.userId);
      await store().markOnline(device, ttl());
      await eventually(() => expect(leaving.flags()).toEqual([true]), timeout());
      await eventually(() => expect(staying.flags()).toEqual([true]), timeout());
      leaving.unsubscribe();
      leaving.unsubscribe(); // twice is harmless
      await store().markOffline(device);
      await eventually(() => expect(staying.flags()).toEqual([true, false]), timeout());
      await settle();
      expect(leaving.flags()).toEqual([true]);
      staying.unsubscribe();
    });

    it('a repeated, late unsubscribe does not disturb watchers that came after it', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      const first = await watch(device.userId);
      first.unsubscribe();
      const second = await watch(device.userId);
      first.unsubscribe();
      await store().markOnline(device, ttl());
      await eventually(() => expect(second.flags()).toEqual([true]), timeout());
      expect(await online(device.userId)).toBe(true);
      expect(first.flags()).toEqual([]);
      second.unsubscribe();
    });

    it('lastSeenMs is the last heartbeat while online, and the disconnect after markOffline', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      const first = await during(() => store().markOnline(device, ttl()));
      expectWithin((await store().get(device.userId)).lastSeenMs, first);
      await advance(ttl() / 4);
      const heartbeat = await during(() => store().markOnline(device, ttl()));
      expectWithin((await store().get(device.userId)).lastSeenMs, heartbeat);
      await advance(ttl() / 4);
      const disconnect = await during(() => store().markOffline(device));
      const state = await store().get(device.userId);
      expect(state.online).toBe(false);
      expectWithin(state.lastSeenMs, disconnect);
    });

    it('after the TTL expires, lastSeenMs is the last heartbeat, not the expiry', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      const heartbeat = await during(() => store().markOnline(device, ttl()));
      await advance(ttl() * 1.5);
      await eventually(async () => expect(await online(device.userId)).toBe(false), timeout());
      expectWithin((await store().get(device.userId)).lastSeenMs, heartbeat);
    });

    it('the offline notification carries lastSeenMs', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      const watcher = await watch(device.userId);
      await store().markOnline(device, ttl());
      await advance(ttl() / 4);
      const disconnect = await during(() => store().markOffline(device));
      await eventually(() => expect(watcher.flags()).toEqual([true, false]), timeout());
      expectWithin(watcher.states[1]!.lastSeenMs, disconnect);
      watcher.unsubscribe();
    });

    it('with several devices, lastSeenMs is the latest heartbeat or disconnect of any of them', async () => {
      const userId = uniqueUserId();
      const phone = { userId, deviceId: 'phone' };
      const laptop = { userId, deviceId: 'laptop' };
      await store().markOnline(phone, ttl());
      await advance(ttl() / 5);
      const laptopHeartbeat = await during(() => store().markOnline(laptop, ttl()));
      expectWithin((await store().get(userId)).lastSeenMs, laptopHeartbeat);
      await advance(ttl() / 5);
      const phoneGone = await during(() => store().markOffline(phone));
      expectWithin((await store().get(userId)).lastSeenMs, phoneGone);
      // The laptop's entry expires later; its last heartbeat is older than the phone's disconnect.
      await advance(ttl() * 1.5);
      await eventually(async () => expect(await online(userId)).toBe(false), timeout());
      expectWithin((await store().get(userId)).lastSeenMs, phoneGone);
    });
  });
}

import { describe, expect, it } from 'vitest';
import type { DeviceId, UserId } from '../../core/ids.js';
import type { ConnectionRegistry, Route } from '../connection-registry.js';
import { compareStrings, eventually, uniqueHex, uniqueUserId, useSubject, type Disposable, type TimeControl } from './support.js';

export interface ConnectionRegistrySubject extends Disposable, TimeControl {
  registry: ConnectionRegistry;
  /** TTL the suite puts entries with; keep it small for real services (default 1000). */
  ttlMs?: number;
  /** How long an expected change (expiry) may take to show after the suite has advanced time past it (default 2000). */
  eventuallyTimeoutMs?: number;
}

/**
 * The ConnectionRegistry contract: routes per device, expiring after their TTL unless put again,
 * removed only by the connection that still owns the entry.
 */
export function connectionRegistryContract(name: string, make: () => Promise<ConnectionRegistrySubject>): void {
  describe(name, () => {
    const subject = useSubject(make);
    const registry = () => subject().registry;
    const ttl = () => subject().ttlMs ?? 1000;
    const advance = (ms: number) => subject().advance(ms);
    const timeout = () => subject().eventuallyTimeoutMs ?? 2000;

    const route = (nodeId = 'node-a'): Route => ({ nodeId, connectionId: `conn-${uniqueHex()}` });

    async function routesOf(userId: UserId): Promise<Array<{ deviceId: DeviceId; route: Route }>> {
      return [...(await registry().lookup(userId))].sort((a, b) => compareStrings(a.deviceId, b.deviceId));
    }

    it('an unknown user has no entries', async () => {
      expect(await registry().lookup(uniqueUserId())).toEqual([]);
    });

    it('lookup returns each live device with its route', async () => {
      const userId = uniqueUserId();
      const phone = route('node-a');
      const laptop = route('node-b');
      await registry().put({ userId, deviceId: 'phone' }, phone, ttl());
      await registry().put({ userId, deviceId: 'laptop' }, laptop, ttl());
      expect(await routesOf(userId)).toEqual([
        { deviceId: 'laptop', route: laptop },
        { deviceId: 'phone', route: phone },
      ]);
    });

    it('put replaces the device’s route (a reconnect)', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      const first = route('node-a');
      const second = route('node-b');
      await registry().put(device, first, ttl());
      await registry().put(device, second, ttl());
      expect(await routesOf(device.userId)).toEqual([{ deviceId: 'phone', route: second }]);
    });

    it('users are independent, even when their ids look alike', async () => {
      const userId = uniqueUserId();
      const mine = route();
      await registry().put({ userId, deviceId: 'x.y' }, mine, ttl());
      await registry().put({ userId: `${userId}0`, deviceId: 'phone' }, route(), ttl());
      await registry().put({ userId: `${userId}.x`, deviceId: 'y' }, route(), ttl());
      expect(await routesOf(userId)).toEqual([{ deviceId: 'x.y', route: mine }]);
      expect(await registry().lookup(userId.slice(0, -1))).toEqual([]);
    });

    it('an entry expires after its TTL', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      const r = route();
      await registry().put(device, r, ttl());
      await advance(ttl() / 2);
      expect(await routesOf(device.userId)).toEqual([{ deviceId: 'phone', route: r }]);
      await advance(ttl());
      await eventually(async () => expect(await registry().lookup(device.userId)).toEqual([]), timeout());
    });

    it('putting again refreshes the TTL', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      const r = route();
      await registry().put(device, r, ttl());
      await advance(ttl() * 0.6);
      await registry().put(device, r, ttl());
      await advance(ttl() * 0.6);
      expect(await routesOf(device.userId)).toEqual([{ deviceId: 'phone', route: r }]);
      await advance(ttl() * 0.6);
      await eventually(async () => expect(await registry().lookup(device.userId)).toEqual([]), timeout());
    });

    it('devices expire independently', async () => {
      const userId = uniqueUserId();
      const laptop = route();
      await registry().put({ userId, deviceId: 'phone' }, route(), ttl());
      await advance(ttl() * 0.6);
      await registry().put({ userId, deviceId: 'laptop' }, laptop, ttl());
      await advance(ttl() * 0.6);
      await eventually(async () => expect(await routesOf(userId)).toEqual([{ deviceId: 'laptop', route: laptop }]), timeout());
    });

    it('a device can be put again after its entry expired', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      await registry().put(device, route(), ttl());
      await advance(ttl() * 1.5);
      await eventually(async () => expect(await registry().lookup(device.userId)).toEqual([]), timeout());
      const again = route();
      await registry().put(device, again, ttl());
      expect(await routesOf(device.userId)).toEqual([{ deviceId: 'phone', route: again }]);
    });

    it('remove with the entry’s own route removes it', async () => {
      const userId = uniqueUserId();
      const phone = route();
      const laptop = route();
      await registry().put({ userId, deviceId: 'phone' }, phone, ttl());
      await registry().put({ userId, deviceId: 'laptop' }, laptop, ttl());
      await registry().remove({ userId, deviceId: 'phone' }, { ...phone });
      expect(await routesOf(userId)).toEqual([{ deviceId: 'laptop', route: laptop }]);
    });

    it('a newer connection survives the remove of the one it replaced', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      const old = route('node-a');
      const newer = route('node-b');
      await registry().put(device, old, ttl());
      await registry().put(device, newer, ttl());
      await registry().remove(device, old);
      expect(await routesOf(device.userId)).toEqual([{ deviceId: 'phone', route: newer }]);
    });

    it('remove needs both the node and the connection to match', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      const r = route('node-a');
      await registry().put(device, r, ttl());
      await registry().remove(device, { nodeId: 'node-b', connectionId: r.connectionId });
      await registry().remove(device, { nodeId: 'node-a', connectionId: `${r.connectionId}0` });
      expect(await routesOf(device.userId)).toEqual([{ deviceId: 'phone', route: r }]);
      await registry().remove(device, r);
      expect(await registry().lookup(device.userId)).toEqual([]);
    });

    describe('lookupMany', () => {
      const sortedEntries = (entries: Array<{ deviceId: DeviceId; route: Route }> | undefined) =>
        entries && [...entries].sort((a, b) => compareStrings(a.deviceId, b.deviceId));

      it('answers every asked user: live entries, [] for an unknown user and for one whose entry expired', async () => {
        const [twoDevices, oneDevice, expired, unknown] = [uniqueUserId(), uniqueUserId(), uniqueUserId(), uniqueUserId()];
        const phone = route('node-a');
        const laptop = route('node-b');
        const tablet = route('node-c');
        await registry().put({ userId: expired, deviceId: 'phone' }, route(), ttl());
        await advance(ttl() * 0.6);
        await registry().put({ userId: twoDevices, deviceId: 'phone' }, phone, ttl());
        await registry().put({ userId: twoDevices, deviceId: 'laptop' }, laptop, ttl());
        await registry().put({ userId: oneDevice, deviceId: 'tablet' }, tablet, ttl());
        await advance(ttl() * 0.6);
        await eventually(async () => {
          const found = await registry().lookupMany([twoDevices, unknown, expired, oneDevice, twoDevices]);
          expect([...found.keys()].sort(compareStrings)).toEqual([twoDevices, oneDevice, expired, unknown].sort(compareStrings));
          expect(sortedEntries(found.get(twoDevices))).toEqual([
            { deviceId: 'laptop', route: laptop },
            { deviceId: 'phone', route: phone },
          ]);
          expect(found.get(oneDevice)).toEqual([{ deviceId: 'tablet', route: tablet }]);
          expect(found.get(expired)).toEqual([]);
          expect(found.get(unknown)).toEqual([]);
        }, timeout());
      });

      it('agrees with lookup for each user', async () => {
        const users = [uniqueUserId(), uniqueUserId(), uniqueUserId()];
        for (const [i, userId] of users.entries()) {
          for (const deviceId of ['phone', 'laptop'].slice(0, i)) await registry().put({ userId, deviceId }, route(), ttl());
        }
        const found = await registry().lookupMany(users);
        for (const userId of users) expect(sortedEntries(found.get(userId))).toEqual(await routesOf(userId));
      });

      it('no users, no entries', async () => {
        expect((await registry().lookupMany([])).size).toBe(0);
      });
    });

    it('removing an absent entry is harmless', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      await registry().remove(device, route());
      await registry().put(device, route(), ttl());
      await registry().remove({ ...device, deviceId: 'laptop' }, route());
      expect(await registry().lookup(device.userId)).toHaveLength(1);
    });
  });
}

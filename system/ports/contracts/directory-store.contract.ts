import { describe, expect, it } from 'vitest';
import type { UserId } from '../../core/ids.js';
import type { DeviceRecord, DirectoryStore } from '../directory-store.js';
import { BASE_TIME_MS, compareStrings, range, uniqueUserId, useSubject, type Disposable } from './support.js';

export interface DirectoryStoreSubject extends Disposable {
  store: DirectoryStore;
}

/** The DirectoryStore contract: device linking up to a limit, unlink times, push tokens. */
export function directoryStoreContract(name: string, make: () => Promise<DirectoryStoreSubject>): void {
  describe(name, () => {
    const subject = useSubject(make);
    const store = () => subject().store;
    const T = BASE_TIME_MS;

    async function deviceIds(userId: UserId): Promise<string[]> {
      return (await store().listDevices(userId)).map((d) => d.deviceId).sort(compareStrings);
    }

    it('an unknown user does not exist and has no devices', async () => {
      const userId = uniqueUserId();
      const device = { userId, deviceId: 'phone' };
      expect(await store().userExists(userId)).toBe(false);
      expect(await store().listDevices(userId)).toEqual([]);
      expect(await store().getDevice(device)).toBeUndefined();
      expect(await store().unlinkedAtMs(device)).toBeUndefined();
    });

    it('linking a device creates the user and records the device', async () => {
      const userId = uniqueUserId();
      const device = { userId, deviceId: 'phone' };
      expect(await store().linkDevice(device, T + 1, 5)).toBe('linked');
      expect(await store().userExists(userId)).toBe(true);
      const record = await store().getDevice(device);
      expect(record).toEqual({ userId, deviceId: 'phone', linkedAtMs: T + 1 });
      expect(record?.pushToken).toBeUndefined();
      expect(await store().listDevices(userId)).toEqual([{ userId, deviceId: 'phone', linkedAtMs: T + 1 }]);
      expect(await store().unlinkedAtMs(device)).toBeUndefined();
    });

    it('linking a linked device again answers already-linked and keeps the record', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      await store().linkDevice(device, T + 1, 5);
      expect(await store().linkDevice(device, T + 2, 5)).toBe('already-linked');
      expect((await store().getDevice(device))?.linkedAtMs).toBe(T + 1);
      expect(await store().listDevices(device.userId)).toHaveLength(1);
    });

    it('links up to the limit, then answers limit-reached; a linked device is still already-linked', async () => {
      const userId = uniqueUserId();
      const at = (deviceId: string) => ({ userId, deviceId });
      expect(await store().linkDevice(at('d1'), T, 3)).toBe('linked');
      expect(await store().linkDevice(at('d2'), T, 3)).toBe('linked');
      expect(await store().linkDevice(at('d3'), T, 3)).toBe('linked');
      expect(await store().linkDevice(at('d4'), T, 3)).toBe('limit-reached');
      expect(await store().linkDevice(at('d1'), T, 3)).toBe('already-linked');
      expect(await store().getDevice(at('d4'))).toBeUndefined();
      expect(await deviceIds(userId)).toEqual(['d1', 'd2', 'd3']);
      // The limit is the caller's, per call.
      expect(await store().linkDevice(at('d4'), T, 4)).toBe('linked');
      expect(await store().linkDevice(at('d5'), T, 2)).toBe('limit-reached');
    });

    it('a refused link does not make the user exist', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      expect(await store().linkDevice(device, T, 0)).toBe('limit-reached');
      expect(await store().userExists(device.userId)).toBe(false);
      expect(await store().getDevice(device)).toBeUndefined();
      expect(await store().listDevices(device.userId)).toEqual([]);
    });

    it('unlinking frees a slot, removes the device and records when it happened', async () => {
      const userId = uniqueUserId();
      const at = (deviceId: string) => ({ userId, deviceId });
      await store().linkDevice(at('d1'), T, 2);
      await store().linkDevice(at('d2'), T, 2);
      expect(await store().linkDevice(at('d3'), T, 2)).toBe('limit-reached');
      await store().unlinkDevice(at('d1'), T + 500);
      expect(await store().unlinkedAtMs(at('d1'))).toBe(T + 500);
      expect(await store().unlinkedAtMs(at('d2'))).toBeUndefined();
      expect(await store().getDevice(at('d1'))).toBeUndefined();
      expect(await deviceIds(userId)).toEqual(['d2']);
      expect(await store().linkDevice(at('d3'), T + 600, 2)).toBe('linked');
      expect(await deviceIds(userId)).toEqual(['d2', 'd3']);
    });

    it('a device linked again after unlinking gets a new record; its last unlink time is kept', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      await store().linkDevice(device, T, 5);
      await store().unlinkDevice(device, T + 100);
      expect(await store().linkDevice(device, T + 200, 5)).toBe('linked');
      expect(await store().getDevice(device)).toEqual({ ...device, linkedAtMs: T + 200 });
      expect(await store().unlinkedAtMs(device)).toBe(T + 100);
      await store().unlinkDevice(device, T + 300);
      expect(await store().unlinkedAtMs(device)).toBe(T + 300);
    });

    it('a user still exists after unlinking every device', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      await store().linkDevice(device, T, 5);
      await store().unlinkDevice(device, T + 1);
      expect(await store().userExists(device.userId)).toBe(true);
      expect(await store().listDevices(device.userId)).toEqual([]);
    });

    it('push tokens are set, replaced and cleared', async () => {
      const userId = uniqueUserId();
      const phone = { userId, deviceId: 'phone' };
      const laptop = { userId, deviceId: 'laptop' };
      await store().linkDevice(phone, T, 5);
      await store().linkDevice(laptop, T, 5);
      await store().setPushToken(phone, 'token-1');
      expect((await store().getDevice(phone))?.pushToken).toBe('token-1');
      expect((await store().getDevice(laptop))?.pushToken).toBeUndefined();
      await store().setPushToken(phone, 'token-2:with/odd+chars=');
      const listed = new Map((await store().listDevices(userId)).map((d): [string, DeviceRecord] => [d.deviceId, d]));
      expect(listed.get('phone')).toEqual({ ...phone, linkedAtMs: T, pushToken: 'token-2:with/odd+chars=' });
      await store().setPushToken(phone, undefined);
      const cleared = await store().getDevice(phone);
      expect(cleared).toEqual({ ...phone, linkedAtMs: T });
      expect(cleared?.pushToken).toBeUndefined();
    });

    it('setting a push token of a device that is not linked links nothing', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      await store().setPushToken(device, 'token');
      expect(await store().getDevice(device)).toBeUndefined();
      expect(await store().userExists(device.userId)).toBe(false);
    });

    it('records read back are copies, not live views', async () => {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      await store().linkDevice(device, T, 5);
      const record = await store().getDevice(device);
      record!.pushToken = 'mutated';
      const [listed] = await store().listDevices(device.userId);
      listed!.linkedAtMs = 0;
      expect(await store().getDevice(device)).toEqual({ ...device, linkedAtMs: T });
    });

    it('users are independent, even when their ids share a prefix', async () => {
      const userId = uniqueUserId();
      const longer = `${userId}0`;
      await store().linkDevice({ userId: longer, deviceId: 'phone' }, T, 1);
      expect(await store().userExists(userId)).toBe(false);
      expect(await store().linkDevice({ userId, deviceId: 'phone' }, T, 1)).toBe('linked');
      expect(await deviceIds(userId)).toEqual(['phone']);
      expect(await deviceIds(longer)).toEqual(['phone']);
    });

    describe('listDevicesMany', () => {
      const byDeviceId = (records: DeviceRecord[] | undefined) =>
        records && [...records].sort((a, b) => compareStrings(a.deviceId, b.deviceId));

      it('answers every asked user: their devices, [] for an unknown user and for one with every device unlinked', async () => {
        const [twoDevices, oneDevice, unlinked, unknown] = [uniqueUserId(), uniqueUserId(), uniqueUserId(), uniqueUserId()];
        await store().linkDevice({ userId: twoDevices, deviceId: 'phone' }, T + 1, 5);
        await store().linkDevice({ userId: twoDevices, deviceId: 'laptop' }, T + 2, 5);
        await store().setPushToken({ userId: twoDevices, deviceId: 'phone' }, 'token-1');
        await store().linkDevice({ userId: oneDevice, deviceId: 'tablet' }, T + 3, 5);
        await store().linkDevice({ userId: unlinked, deviceId: 'phone' }, T + 4, 5);
        await store().unlinkDevice({ userId: unlinked, deviceId: 'phone' }, T + 5);
        const found = await store().listDevicesMany([twoDevices, unknown, unlinked, oneDevice, twoDevices]);
        expect([...found.keys()].sort(compareStrings)).toEqual([twoDevices, oneDevice, unlinked, unknown].sort(compareStrings));
        expect(byDeviceId(found.get(twoDevices))).toEqual([
          { userId: twoDevices, deviceId: 'laptop', linkedAtMs: T + 2 },
          { userId: twoDevices, deviceId: 'phone', linkedAtMs: T + 1, pushToken: 'token-1' },
        ]);
        expect(found.get(oneDevice)).toEqual([{ userId: oneDevice, deviceId: 'tablet', linkedAtMs: T + 3 }]);
        expect(found.get(unlinked)).toEqual([]);
        expect(found.get(unknown)).toEqual([]);
      });

      it('agrees with listDevices for each user, and answers copies', async () => {
        const users = [uniqueUserId(), uniqueUserId(), uniqueUserId()];
        for (const [i, userId] of users.entries()) {
          for (const deviceId of ['phone', 'laptop'].slice(0, i)) await store().linkDevice({ userId, deviceId }, T + i, 5);
        }
        const found = await store().listDevicesMany(users);
        for (const userId of users) expect(byDeviceId(found.get(userId))).toEqual(byDeviceId(await store().listDevices(userId)));
        found.get(users[1]!)![0]!.linkedAtMs = 0;
        expect((await store().listDevices(users[1]!))[0]!.linkedAtMs).toBe(T + 1);
      });

      it('no users, no devices', async () => {
        expect((await store().listDevicesMany([])).size).toBe(0);
      });
    });

    it('concurrent links never exceed the limit and link each device once', async () => {
      const userId = uniqueUserId();
      const attempts = [...range(1, 6).map((i) => `d${i}`), 'd1', 'd2'];
      const outcomes = await Promise.all(attempts.map((deviceId) => store().linkDevice({ userId, deviceId }, T, 3)));
      expect(outcomes.filter((o) => o === 'linked')).toHaveLength(3);
      const linked = await deviceIds(userId);
      expect(linked).toHaveLength(3);
      expect(new Set(linked).size).toBe(3);
    });
  });
}

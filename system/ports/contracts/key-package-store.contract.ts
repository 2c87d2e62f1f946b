import { describe, expect, it } from 'vitest';
import type { DeviceAddress } from '../../core/ids.js';
import type { KeyPackageStore, StoredKeyPackage } from '../key-package-store.js';
import { bytesBase64, range, uniqueDevice, uniqueHex, useSubject, type Disposable } from './support.js';

export interface KeyPackageStoreSubject extends Disposable {
  store: KeyPackageStore;
}

/** A package with a run-unique id and distinct bytes. */
function keyPackage(salt = 0): StoredKeyPackage {
  return { id: uniqueHex(), keyPackageBase64: bytesBase64(64, salt) };
}

/**
 * The KeyPackageStore contract: single-use packages are handed out once each (also under racing
 * claims), the last-resort package is reused, uploads are idempotent and capped per device.
 */
export function keyPackageStoreContract(name: string, make: () => Promise<KeyPackageStoreSubject>): void {
  describe(name, () => {
    const subject = useSubject(make);
    const store = () => subject().store;

    async function claimAll(device: DeviceAddress, n: number) {
      const out = [];
      for (let i = 0; i < n; i++) out.push(await store().claim(device));
      return out;
    }

    it('a device that never uploaded has nothing to claim', async () => {
      const device = uniqueDevice();
      expect(await store().count(device)).toEqual({ available: 0, lastResort: false });
      expect(await store().claim(device)).toBeUndefined();
    });

    it('hands out each uploaded package once, then nothing', async () => {
      const device = uniqueDevice();
      const packages = range(1, 5).map((i) => keyPackage(i));
      expect(await store().add(device, packages, 100)).toBe('added');
      expect(await store().count(device)).toEqual({ available: 5, lastResort: false });
      const claimed = await claimAll(device, 5);
      expect(claimed.map((c) => c?.id).sort()).toEqual(packages.map((p) => p.id).sort());
      for (const c of claimed) {
        const original = packages.find((p) => p.id === c!.id)!;
        expect(c).toEqual({ ...original, lastResort: false });
      }
      expect(await store().count(device)).toEqual({ available: 0, lastResort: false });
      expect(await store().claim(device)).toBeUndefined();
    });

    it('falls back to the last-resort package, which is reused and not counted', async () => {
      const device = uniqueDevice();
      const single = keyPackage(1);
      const lastResort = keyPackage(2);
      await store().add(device, [single], 100);
      await store().setLastResort(device, lastResort);
      expect(await store().count(device)).toEqual({ available: 1, lastResort: true });
      expect(await store().claim(device)).toEqual({ ...single, lastResort: false });
      expect(await store().claim(device)).toEqual({ ...lastResort, lastResort: true });
      expect(await store().claim(device)).toEqual({ ...lastResort, lastResort: true });
      expect(await store().count(device)).toEqual({ available: 0, lastResort: true });
    });

    it('replaces the last-resort package', async () => {
      const device = uniqueDevice();
      await store().setLastResort(device, keyPackage(1));
      const newer = keyPackage(2);
      await store().setLastResort(device, newer);
      expect(await store().claim(device)).toEqual({ ...newer, lastResort: true });
    });

    it('ignores packages already in the pool (a retried upload)', async () => {
      const device = uniqueDevice();
      const packages = [keyPackage(1), keyPackage(2)];
      await store().add(device, packages, 100);
      expect(await store().add(device, packages, 100)).toBe('added');
      expect((await store().count(device)).available).toBe(2);
    });

    it('never pools a claimed package again, even when its upload is repeated later', async () => {
      const device = uniqueDevice();
      const packages = [keyPackage(1), keyPackage(2)];
      await store().add(device, packages, 100);
      const claimed = await store().claim(device);
      expect(await store().add(device, packages, 100)).toBe('added');
      expect(await store().count(device)).toEqual({ available: 1, lastResort: false });
      const rest = await store().claim(device);
      expect(rest?.id).not.toBe(claimed?.id);
      expect(await store().claim(device)).toBeUndefined();
    });

    it('refuses an upload that would pass the per-device limit, adding none of it', async () => {
      const device = uniqueDevice();
      expect(await store().add(device, [keyPackage(1), keyPackage(2)], 3)).toBe('added');
      expect(await store().add(device, [keyPackage(3), keyPackage(4)], 3)).toBe('limit-reached');
      expect((await store().count(device)).available).toBe(2);
      expect(await store().add(device, [keyPackage(5)], 3)).toBe('added');
      expect((await store().count(device)).available).toBe(3);
    });

    it('racing claims never hand out a single-use package twice', async () => {
      const device = uniqueDevice();
      const packages = range(1, 10).map((i) => keyPackage(i));
      const lastResort = keyPackage(99);
      await store().add(device, packages, 100);
      await store().setLastResort(device, lastResort);
      const claims = await Promise.all(range(1, 30).map(() => store().claim(device)));
      const single = claims.filter((c) => c && !c.lastResort).map((c) => c!.id);
      expect(single.sort()).toEqual(packages.map((p) => p.id).sort());
      expect(claims.filter((c) => c?.lastResort).map((c) => c!.id)).toEqual(Array(20).fill(lastResort.id));
      expect(await store().count(device)).toEqual({ available: 0, lastResort: true });
    });

    it('keeps devices apart, even when their ids share a prefix', async () => {
      const phone = uniqueDevice();
      const other = { userId: `${phone.userId}0`, deviceId: phone.deviceId };
      const sibling = { userId: phone.userId, deviceId: `${phone.deviceId}0` };
      const mine = keyPackage(1);
      await store().add(phone, [mine], 100);
      expect(await store().claim(other)).toBeUndefined();
      expect(await store().claim(sibling)).toBeUndefined();
      expect((await store().claim(phone))?.id).toBe(mine.id);
    });

    it('clear forgets every package of the device', async () => {
      const device = uniqueDevice();
      await store().add(device, [keyPackage(1), keyPackage(2)], 100);
      await store().setLastResort(device, keyPackage(3));
      await store().clear(device);
      expect(await store().count(device)).toEqual({ available: 0, lastResort: false });
      expect(await store().claim(device)).toBeUndefined();
    });

    it('returns copies, not live views', async () => {
      const device = uniqueDevice();
      const pkg = keyPackage(1);
      await store().setLastResort(device, pkg);
      const first = await store().claim(device);
      first!.keyPackageBase64 = 'mutated';
      expect((await store().claim(device))?.keyPackageBase64).toBe(pkg.keyPackageBase64);
    });
  });
}

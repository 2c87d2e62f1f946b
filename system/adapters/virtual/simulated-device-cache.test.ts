import { describe, expect, it } from 'vitest';
import { directoryStoreContract } from '../../ports/contracts/index.js';
import type { DirectoryStore } from '../../ports/directory-store.js';
import { MemoryDirectoryStore } from '../memory/memory-directory-store.js';
import { DeviceListVersions, SimulatedDeviceListCache } from './simulated-device-cache.js';

directoryStoreContract('SimulatedDeviceListCache', async () => ({
  store: new SimulatedDeviceListCache(new MemoryDirectoryStore(), new DeviceListVersions()),
}));

/** The memory store, counting device-list reads (what the simulated tier would be charged). */
function counting(inner: DirectoryStore): DirectoryStore & { listReads: number } {
  const store = Object.create(inner) as DirectoryStore & { listReads: number };
  store.listReads = 0;
  store.listDevicesMany = async (userIds) => {
    store.listReads += userIds.length;
    return inner.listDevicesMany(userIds);
  };
  return store;
}

describe('SimulatedDeviceListCache', () => {
  it('reads a user once, and again only after a change made through any gateway', async () => {
    const inner = counting(new MemoryDirectoryStore());
    const versions = new DeviceListVersions();
    const gatewayA = new SimulatedDeviceListCache(inner, versions);
    const gatewayB = new SimulatedDeviceListCache(inner, versions);
    await gatewayA.linkDevice({ userId: 'bob', deviceId: 'phone' }, 1, 5);
    expect((await gatewayB.listDevicesMany(['bob'])).get('bob')).toHaveLength(1);
    await gatewayB.listDevicesMany(['bob']);
    expect(inner.listReads).toBe(1);
    // A second device linked through gateway A: B's next fan-out sees it.
    await gatewayA.linkDevice({ userId: 'bob', deviceId: 'laptop' }, 2, 5);
    expect(
      (await gatewayB.listDevicesMany(['bob']))
        .get('bob')!
        .map((d) => d.deviceId)
        .sort(),
    ).toEqual(['laptop', 'phone']);
    expect(inner.listReads).toBe(2);
    // A reconnect links again ('already-linked'): no change, nothing re-read.
    await gatewayA.linkDevice({ userId: 'bob', deviceId: 'phone' }, 3, 5);
    await gatewayB.listDevicesMany(['bob']);
    expect(inner.listReads).toBe(2);
    await gatewayA.setPushToken({ userId: 'bob', deviceId: 'phone' }, 'token-1');
    expect((await gatewayB.listDevicesMany(['bob'])).get('bob')!.find((d) => d.deviceId === 'phone')?.pushToken).toBe('token-1');
    await gatewayA.unlinkDevice({ userId: 'bob', deviceId: 'laptop' }, 4);
    expect((await gatewayB.listDevicesMany(['bob'])).get('bob')!.map((d) => d.deviceId)).toEqual(['phone']);
  });
});

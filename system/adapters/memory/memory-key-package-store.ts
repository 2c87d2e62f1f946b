import { deviceKey, type DeviceAddress } from '../../core/ids.js';
import type {
  AddKeyPackagesOutcome,
  ClaimedKeyPackage,
  KeyPackageCount,
  KeyPackageStore,
  StoredKeyPackage,
} from '../../ports/key-package-store.js';

/** The key directory in memory. Every method runs without awaiting, so a claim is atomic. */
export class MemoryKeyPackageStore implements KeyPackageStore {
  /** Per device, its single-use packages by id, oldest first (Map keeps insertion order). */
  private readonly pools = new Map<string, Map<string, string>>();
  private readonly lastResorts = new Map<string, StoredKeyPackage>();
  /** Every id each device ever uploaded: a claimed package re-uploaded (a late retry) must not return. */
  private readonly seen = new Map<string, Set<string>>();

  async add(device: DeviceAddress, packages: readonly StoredKeyPackage[], perDeviceMax: number): Promise<AddKeyPackagesOutcome> {
    const key = deviceKey(device);
    const pool = this.pools.get(key) ?? new Map<string, string>();
    const seen = this.seen.get(key) ?? new Set<string>();
    const fresh = new Map(packages.filter((p) => !seen.has(p.id)).map((p) => [p.id, p.keyPackageBase64]));
    if (pool.size + fresh.size > perDeviceMax) return 'limit-reached';
    for (const [id, bytes] of fresh) {
      pool.set(id, bytes);
      seen.add(id);
    }
    this.seen.set(key, seen);
    if (pool.size > 0) this.pools.set(key, pool);
    return 'added';
  }

  async setLastResort(device: DeviceAddress, keyPackage: StoredKeyPackage): Promise<void> {
    this.lastResorts.set(deviceKey(device), { ...keyPackage });
  }

  async claim(device: DeviceAddress): Promise<ClaimedKeyPackage | undefined> {
    const key = deviceKey(device);
    const pool = this.pools.get(key);
    const first = pool?.entries().next();
    if (pool && first && !first.done) {
      const [id, keyPackageBase64] = first.value;
      pool.delete(id);
      if (pool.size === 0) this.pools.delete(key);
      return { id, keyPackageBase64, lastResort: false };
    }
    const lastResort = this.lastResorts.get(key);
    return lastResort && { ...lastResort, lastResort: true };
  }

  async count(device: DeviceAddress): Promise<KeyPackageCount> {
    const key = deviceKey(device);
    return { available: this.pools.get(key)?.size ?? 0, lastResort: this.lastResorts.has(key) };
  }

  async clear(device: DeviceAddress): Promise<void> {
    const key = deviceKey(device);
    this.pools.delete(key);
    this.lastResorts.delete(key);
  }
}

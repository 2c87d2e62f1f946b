import type { DeviceAddress, UserId } from '../../core/ids.js';
import type { DeviceRecord, DirectoryStore, LinkOutcome } from '../../ports/directory-store.js';

/** Users whose device lists one gateway keeps (the oldest dropped first). */
const CACHED_USERS_MAX = 10_000;

/**
 * Which user's device list changed last, shared by every simulated gateway: the simulated
 * counterpart of the production cache's Redis invalidation channel, delivered at once.
 */
export class DeviceListVersions {
  private readonly versions = new Map<UserId, number>();

  of(userId: UserId): number {
    return this.versions.get(userId) ?? 0;
  }

  changed(userId: UserId): void {
    this.versions.set(userId, this.of(userId) + 1);
  }
}

/**
 * One simulated gateway's cache of device lists, as the production gateways keep one
 * (system/adapters/redis/cached-directory-store.ts): a fan-out reads the directory tier only for
 * users it has not cached or whose list changed since, so the simulated Cassandra sees the
 * production request mix. A crashed gateway's cache is gone with it (a new incarnation builds a new one).
 */
export class SimulatedDeviceListCache implements DirectoryStore {
  private readonly cached = new Map<UserId, { version: number; devices: DeviceRecord[] }>();

  constructor(
    private readonly inner: DirectoryStore,
    private readonly versions: DeviceListVersions,
  ) {}

  async listDevicesMany(userIds: readonly UserId[]): Promise<Map<UserId, DeviceRecord[]>> {
    const found = new Map<UserId, DeviceRecord[]>();
    const missing: UserId[] = [];
    for (const userId of userIds) {
      const entry = this.cached.get(userId);
      if (entry && entry.version === this.versions.of(userId))
        found.set(
          userId,
          entry.devices.map((d) => ({ ...d })),
        );
      else if (!found.has(userId)) missing.push(userId);
    }
    if (missing.length === 0) return found;
    // Versions as they were before the read: a change during it leaves the entry stale, not wrong.
    const before = new Map(missing.map((userId) => [userId, this.versions.of(userId)]));
    const read = await this.inner.listDevicesMany(missing);
    for (const [userId, devices] of read) {
      found.set(userId, devices);
      this.remember(userId, before.get(userId)!, devices);
    }
    return found;
  }

  async listDevices(userId: UserId): Promise<DeviceRecord[]> {
    return (await this.listDevicesMany([userId])).get(userId) ?? [];
  }

  /** Announced only when a device was added (or the outcome is unknown), as production does: every connect links. */
  async linkDevice(...args: Parameters<DirectoryStore['linkDevice']>): Promise<LinkOutcome> {
    let outcome: LinkOutcome | undefined;
    try {
      outcome = await this.inner.linkDevice(...args);
      return outcome;
    } finally {
      if (outcome === undefined || outcome === 'linked') this.versions.changed(args[0].userId);
    }
  }

  async unlinkDevice(device: DeviceAddress, atMs: number): Promise<void> {
    try {
      await this.inner.unlinkDevice(device, atMs);
    } finally {
      this.versions.changed(device.userId);
    }
  }

  async setPushToken(device: DeviceAddress, token: string | undefined): Promise<void> {
    try {
      await this.inner.setPushToken(device, token);
    } finally {
      this.versions.changed(device.userId);
    }
  }

  unlinkedAtMs(device: DeviceAddress): Promise<number | undefined> {
    return this.inner.unlinkedAtMs(device);
  }

  getDevice(device: DeviceAddress): Promise<DeviceRecord | undefined> {
    return this.inner.getDevice(device);
  }

  userExists(userId: UserId): Promise<boolean> {
    return this.inner.userExists(userId);
  }

  private remember(userId: UserId, version: number, devices: DeviceRecord[]): void {
    this.cached.delete(userId);
    this.cached.set(userId, { version, devices: devices.map((d) => ({ ...d })) });
    if (this.cached.size > CACHED_USERS_MAX) {
      const oldest = this.cached.keys().next().value;
      if (oldest !== undefined) this.cached.delete(oldest);
    }
  }
}

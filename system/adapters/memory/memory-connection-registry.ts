import type { DeviceAddress, DeviceId, UserId } from '../../core/ids.js';
import type { Clock } from '../../ports/clock.js';
import type { ConnectionRegistry, Route } from '../../ports/connection-registry.js';

interface Entry {
  deviceId: DeviceId;
  route: Route;
  expiresAtMs: number;
}

/**
 * Registry entries expire by comparing with the clock on read, as Redis TTLs would. A user has a
 * handful of devices at most: each user's entries are a small array (a Map per user would cost
 * several times more with the simulator's hundreds of thousands of connected users).
 */
export class MemoryConnectionRegistry implements ConnectionRegistry {
  private readonly byUser = new Map<UserId, Entry[]>();

  constructor(private readonly clock: Clock) {}

  async put(device: DeviceAddress, route: Route, ttlMs: number): Promise<void> {
    const entry: Entry = { deviceId: device.deviceId, route, expiresAtMs: this.clock.nowMs() + ttlMs };
    const entries = this.byUser.get(device.userId);
    if (!entries) {
      this.byUser.set(device.userId, [entry]);
      return;
    }
    const at = entries.findIndex((e) => e.deviceId === device.deviceId);
    if (at >= 0) entries[at] = entry;
    else entries.push(entry);
  }

  async remove(device: DeviceAddress, route: Route): Promise<void> {
    const entries = this.byUser.get(device.userId);
    const at = entries ? entries.findIndex((e) => e.deviceId === device.deviceId) : -1;
    if (!entries || at < 0) return;
    const entry = entries[at]!;
    if (entry.route.nodeId === route.nodeId && entry.route.connectionId === route.connectionId) {
      entries.splice(at, 1);
      if (entries.length === 0) this.byUser.delete(device.userId);
    }
  }

  async lookup(userId: UserId): Promise<Array<{ deviceId: DeviceId; route: Route }>> {
    return this.liveEntries(userId);
  }

  async lookupMany(userIds: readonly UserId[]): Promise<Map<UserId, Array<{ deviceId: DeviceId; route: Route }>>> {
    const found = new Map<UserId, Array<{ deviceId: DeviceId; route: Route }>>();
    for (const userId of userIds) if (!found.has(userId)) found.set(userId, this.liveEntries(userId));
    return found;
  }

  /** The user's unexpired entries; expired ones are dropped on the way, as Redis would have. */
  private liveEntries(userId: UserId): Array<{ deviceId: DeviceId; route: Route }> {
    const entries = this.byUser.get(userId);
    if (!entries) return [];
    const now = this.clock.nowMs();
    const live: Array<{ deviceId: DeviceId; route: Route }> = [];
    let expired = false;
    for (const entry of entries) {
      if (entry.expiresAtMs > now) live.push({ deviceId: entry.deviceId, route: entry.route });
      else expired = true;
    }
    if (expired) {
      const kept = entries.filter((e) => e.expiresAtMs > now);
      if (kept.length === 0) this.byUser.delete(userId);
      else this.byUser.set(userId, kept);
    }
    return live;
  }

  /** For tests and diagnostics. */
  size(): number {
    let total = 0;
    for (const entries of this.byUser.values()) total += entries.length;
    return total;
  }
}

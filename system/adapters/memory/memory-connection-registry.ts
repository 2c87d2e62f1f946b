import type { DeviceAddress, DeviceId, UserId } from '../../core/ids.js';
import type { Clock } from '../../ports/clock.js';
import type { ConnectionRegistry, Route } from '../../ports/connection-registry.js';

interface Entry {
  deviceId: DeviceId;
  route: Route;
  expiresAtMs: number;
}

/** Registry entries expire by comparing with the clock on read, as Redis TTLs would. */
export class MemoryConnectionRegistry implements ConnectionRegistry {
  private readonly byUser = new Map<UserId, Map<DeviceId, Entry>>();

  constructor(private readonly clock: Clock) {}

  async put(device: DeviceAddress, route: Route, ttlMs: number): Promise<void> {
    let entries = this.byUser.get(device.userId);
    if (!entries) {
      entries = new Map();
      this.byUser.set(device.userId, entries);
    }
    entries.set(device.deviceId, { deviceId: device.deviceId, route, expiresAtMs: this.clock.nowMs() + ttlMs });
  }

  async remove(device: DeviceAddress, route: Route): Promise<void> {
    const entries = this.byUser.get(device.userId);
    const entry = entries?.get(device.deviceId);
    if (!entries || !entry) return;
    if (entry.route.nodeId === route.nodeId && entry.route.connectionId === route.connectionId) {
      entries.delete(device.deviceId);
      if (entries.size === 0) this.byUser.delete(device.userId);
    }
  }

  async lookup(userId: UserId): Promise<Array<{ deviceId: DeviceId; route: Route }>> {
    const entries = this.byUser.get(userId);
    if (!entries) return [];
    const now = this.clock.nowMs();
    const live: Array<{ deviceId: DeviceId; route: Route }> = [];
    for (const [id, entry] of entries) {
      if (entry.expiresAtMs > now) live.push({ deviceId: entry.deviceId, route: entry.route });
      else entries.delete(id);
    }
    return live;
  }

  /** For tests and diagnostics. */
  size(): number {
    let total = 0;
    for (const entries of this.byUser.values()) total += entries.size;
    return total;
  }
}

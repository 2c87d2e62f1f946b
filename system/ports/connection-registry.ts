import type { DeviceAddress, DeviceId, UserId } from '../core/ids.js';

/** Where a live connection is: the gateway node and the connection on it. */
export interface Route {
  nodeId: string;
  connectionId: string;
}

/**
 * Which devices are connected, and where. Entries expire after their TTL unless refreshed by
 * heartbeats, so a crashed gateway's entries disappear by themselves.
 */
export interface ConnectionRegistry {
  put(device: DeviceAddress, route: Route, ttlMs: number): Promise<void>;
  /** Removes the entry only if it still names this route (a newer connection may have replaced it). */
  remove(device: DeviceAddress, route: Route): Promise<void>;
  /** Live entries of the user's devices. */
  lookup(userId: UserId): Promise<Array<{ deviceId: DeviceId; route: Route }>>;
}

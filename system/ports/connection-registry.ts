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
  /**
   * `lookup` of several users in one round trip from the caller's view (a fan-out asks for a
   * whole group at once). Every asked user is a key of the answer; one with no live entry maps to [].
   */
  lookupMany(userIds: readonly UserId[]): Promise<Map<UserId, Array<{ deviceId: DeviceId; route: Route }>>>;
}

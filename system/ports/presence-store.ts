import type { DeviceAddress, UserId } from '../core/ids.js';

export interface PresenceState {
  userId: UserId;
  online: boolean;
  /** When the user was last seen online (last heartbeat or disconnect), if ever. */
  lastSeenMs?: number;
}

export type Unsubscribe = () => void;

/**
 * Presence per user: online while any device has an unexpired entry. Entries live `ttlMs` and
 * are refreshed by heartbeats, so a vanished connection reads as offline within the TTL.
 */
export interface PresenceStore {
  markOnline(device: DeviceAddress, ttlMs: number): Promise<void>;
  markOffline(device: DeviceAddress): Promise<void>;
  get(userId: UserId): Promise<PresenceState>;
  /** Calls `listener` whenever the user's online flag changes (including by TTL expiry). */
  watch(userId: UserId, listener: (state: PresenceState) => void): Unsubscribe;
  /**
   * Until when (clock ms) "offline" may only mean "not put back yet": the store came back from a
   * loss of its entries (a Redis restart) and the gateways are re-announcing their connections.
   * Absent or in the past: an offline reading can be told as it is.
   */
  offlineUnsureUntilMs?(): number;
}

import type { DeviceAddress, DeviceId, UserId } from '../../core/ids.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { PresenceState, PresenceStore, Unsubscribe } from '../../ports/presence-store.js';

interface UserPresence {
  /** device → its expiry timer */
  devices: Map<DeviceId, TimerHandle>;
  lastSeenMs?: number;
  listeners: Set<(state: PresenceState) => void>;
}

/**
 * Presence with per-device TTLs on the injected clock: when the last device's entry expires or
 * is removed, the user turns offline and watchers hear of it.
 */
export class MemoryPresenceStore implements PresenceStore {
  private readonly users = new Map<UserId, UserPresence>();

  constructor(private readonly clock: Clock) {}

  async markOnline(device: DeviceAddress, ttlMs: number): Promise<void> {
    const user = this.userFor(device.userId);
    const wasOnline = user.devices.size > 0;
    user.devices.get(device.deviceId)?.cancel();
    user.devices.set(
      device.deviceId,
      this.clock.setTimer(ttlMs, () => this.dropDevice(device, true)),
    );
    user.lastSeenMs = this.clock.nowMs();
    if (!wasOnline) this.notify(device.userId, user);
  }

  async markOffline(device: DeviceAddress): Promise<void> {
    this.dropDevice(device);
  }

  async get(userId: UserId): Promise<PresenceState> {
    return this.stateOf(userId, this.users.get(userId));
  }

  watch(userId: UserId, listener: (state: PresenceState) => void): Unsubscribe {
    const user = this.userFor(userId);
    user.listeners.add(listener);
    return () => {
      user.listeners.delete(listener);
      this.forgetIfIdle(userId, user);
    };
  }

  /** On TTL expiry the device was last seen at its last heartbeat (already recorded), not now. */
  private dropDevice(device: DeviceAddress, expired = false): void {
    const user = this.users.get(device.userId);
    const timer = user?.devices.get(device.deviceId);
    if (!user || !timer) return;
    timer.cancel();
    user.devices.delete(device.deviceId);
    if (!expired) user.lastSeenMs = this.clock.nowMs();
    if (user.devices.size === 0) this.notify(device.userId, user);
  }

  private notify(userId: UserId, user: UserPresence): void {
    const state = this.stateOf(userId, user);
    for (const listener of [...user.listeners]) listener(state);
  }

  private stateOf(userId: UserId, user: UserPresence | undefined): PresenceState {
    const state: PresenceState = { userId, online: (user?.devices.size ?? 0) > 0 };
    if (user?.lastSeenMs !== undefined) state.lastSeenMs = user.lastSeenMs;
    return state;
  }

  private userFor(userId: UserId): UserPresence {
    let user = this.users.get(userId);
    if (!user) {
      user = { devices: new Map(), listeners: new Set() };
      this.users.set(userId, user);
    }
    return user;
  }

  private forgetIfIdle(userId: UserId, user: UserPresence): void {
    // Keep lastSeenMs: "last seen" must survive the listeners going away. A late (repeated)
    // unsubscribe may hold a record already replaced by a newer watch: leave that one alone.
    if (this.users.get(userId) !== user) return;
    if (user.devices.size === 0 && user.listeners.size === 0 && user.lastSeenMs === undefined) this.users.delete(userId);
  }
}

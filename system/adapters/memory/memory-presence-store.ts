import type { DeviceAddress, DeviceId, UserId } from '../../core/ids.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { PresenceState, PresenceStore, Unsubscribe } from '../../ports/presence-store.js';

/** One device's entry: when it expires, and the timer that checks (set for `dueAtMs`). */
interface DeviceEntry {
  expiresAtMs: number;
  dueAtMs: number;
  timer: TimerHandle | undefined;
}

interface UserPresence {
  devices: Map<DeviceId, DeviceEntry>;
  lastSeenMs?: number;
  /** Created by the first watch: most users are never watched. */
  listeners: Set<(state: PresenceState) => void> | undefined;
}

/**
 * Presence with per-device TTLs on the injected clock: when the last device's entry expires or
 * is removed, the user turns offline and watchers hear of it. A refresh only moves the expiry; the
 * one timer per device, when it fires early, waits again for the rest (a heartbeat does not cost a
 * new timer, which matters with hundreds of thousands of simulated connections).
 */
export class MemoryPresenceStore implements PresenceStore {
  private readonly users = new Map<UserId, UserPresence>();

  constructor(private readonly clock: Clock) {}

  async markOnline(device: DeviceAddress, ttlMs: number): Promise<void> {
    const user = this.userFor(device.userId);
    const wasOnline = user.devices.size > 0;
    const now = this.clock.nowMs();
    const expiresAtMs = now + ttlMs;
    const entry = user.devices.get(device.deviceId);
    if (entry && entry.dueAtMs <= expiresAtMs) {
      entry.expiresAtMs = expiresAtMs;
    } else {
      entry?.timer?.cancel();
      const fresh: DeviceEntry = { expiresAtMs, dueAtMs: expiresAtMs, timer: undefined };
      this.armExpiry(device, fresh, ttlMs);
      user.devices.set(device.deviceId, fresh);
    }
    user.lastSeenMs = now;
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
    (user.listeners ??= new Set()).add(listener);
    return () => {
      user.listeners?.delete(listener);
      this.forgetIfIdle(userId, user);
    };
  }

  private armExpiry(device: DeviceAddress, entry: DeviceEntry, delayMs: number): void {
    entry.timer = this.clock.setTimer(delayMs, () => {
      const user = this.users.get(device.userId);
      if (user?.devices.get(device.deviceId) !== entry) return;
      const remainingMs = entry.expiresAtMs - this.clock.nowMs();
      if (remainingMs > 0) {
        // Refreshed since the timer was set: wait for the rest.
        entry.dueAtMs = entry.expiresAtMs;
        this.armExpiry(device, entry, remainingMs);
        return;
      }
      this.dropDevice(device, true);
    });
  }

  /** On TTL expiry the device was last seen at its last heartbeat (already recorded), not now. */
  private dropDevice(device: DeviceAddress, expired = false): void {
    const user = this.users.get(device.userId);
    const entry = user?.devices.get(device.deviceId);
    if (!user || !entry) return;
    entry.timer?.cancel();
    user.devices.delete(device.deviceId);
    if (!expired) user.lastSeenMs = this.clock.nowMs();
    if (user.devices.size === 0) this.notify(device.userId, user);
  }

  private notify(userId: UserId, user: UserPresence): void {
    const state = this.stateOf(userId, user);
    if (!user.listeners) return;
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
      user = { devices: new Map(), listeners: undefined };
      this.users.set(userId, user);
    }
    return user;
  }

  private forgetIfIdle(userId: UserId, user: UserPresence): void {
    // Keep lastSeenMs: "last seen" must survive the listeners going away. A late (repeated)
    // unsubscribe may hold a record already replaced by a newer watch: leave that one alone.
    if (this.users.get(userId) !== user) return;
    if (user.devices.size === 0 && (user.listeners?.size ?? 0) === 0 && user.lastSeenMs === undefined) this.users.delete(userId);
  }
}

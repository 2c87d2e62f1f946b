import type { DeviceAddress, UserId } from '../core/ids.js';
import type { Route } from '../ports/connection-registry.js';
import type { PresenceState, Unsubscribe } from '../ports/presence-store.js';
import type { CoreDeps } from './deps.js';

/**
 * Lazy presence: a connection watches only the users it names (the people it is chatting with),
 * never a whole contact list; connect and heartbeats keep a device online, the TTL ends it.
 */
export class PresenceService {
  constructor(private readonly deps: Pick<CoreDeps, 'presence' | 'limits' | 'clock'>) {}

  /** The connection `route` of the device is up (its client has read the welcome). */
  online(device: DeviceAddress, route: Route): Promise<void> {
    return this.deps.presence.markOnline(presenceEntryOf(device, route), this.deps.limits.presenceTtlMs);
  }

  /** That connection is gone; the device's other connections keep their own entries. */
  offline(device: DeviceAddress, route: Route): Promise<void> {
    return this.deps.presence.markOffline(presenceEntryOf(device, route));
  }

  /**
   * Starts watching; the listener first hears the current state, then every change. Right after
   * the store lost its entries (offlineUnsureUntilMs), a user read as offline may only not have
   * been put back yet: the first state is then told once the user is read online or the doubt
   * has passed, instead of a wrong "offline" now.
   */
  async watch(userId: UserId, listener: (state: PresenceState) => void): Promise<Unsubscribe> {
    let told = false;
    let stopped = false;
    const unsubscribe = this.deps.presence.watch(userId, (state) => {
      told = true;
      listener(state);
    });
    const state = await this.deps.presence.get(userId);
    if (state.online || this.unsureUntilMs() <= this.deps.clock.nowMs()) listener(state);
    else void this.tellWhenSure(userId, listener, () => told || stopped);
    return () => {
      stopped = true;
      unsubscribe();
    };
  }

  private unsureUntilMs(): number {
    return this.deps.presence.offlineUnsureUntilMs?.() ?? 0;
  }

  /** Reads the user again every UNSURE_REREAD_MS until online, or until the doubt has passed (then tells what it reads). */
  private async tellWhenSure(userId: UserId, listener: (state: PresenceState) => void, settled: () => boolean): Promise<void> {
    const { clock, presence } = this.deps;
    for (;;) {
      const doubtLeftMs = this.unsureUntilMs() - clock.nowMs();
      // Up to the end of the doubt; after it (a read failed) a read a second, until unwatched.
      const waitMs = doubtLeftMs > 0 ? Math.min(UNSURE_REREAD_MS, doubtLeftMs) : UNSURE_REREAD_MS;
      await new Promise<void>((resolve) => clock.setTimer(waitMs, resolve));
      if (settled()) return;
      let state: PresenceState;
      try {
        state = await presence.get(userId);
      } catch {
        continue; // the store is not answering yet: keep trying
      }
      if (settled()) return;
      if (state.online || this.unsureUntilMs() <= clock.nowMs()) {
        listener(state);
        return;
      }
    }
  }
}

/** How often a watch whose first state is in doubt (see watch) reads the user again. */
const UNSURE_REREAD_MS = 1_000;

/**
 * The presence entry of one connection of a device. One entry per connection, not per device: a
 * device's old connection that ends late (its client had already reconnected, elsewhere or here)
 * removes only its own entry, never the live connection's.
 */
export function presenceEntryOf(device: DeviceAddress, route: Route): DeviceAddress {
  return { userId: device.userId, deviceId: `${device.deviceId}@${route.nodeId}/${route.connectionId}` };
}

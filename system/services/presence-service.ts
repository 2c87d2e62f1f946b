import type { DeviceAddress, UserId } from '../core/ids.js';
import type { Route } from '../ports/connection-registry.js';
import type { PresenceState, Unsubscribe } from '../ports/presence-store.js';
import type { CoreDeps } from './deps.js';

/**
 * Lazy presence: a connection watches only the users it names (the people it is chatting with),
 * never a whole contact list; connect and heartbeats keep a device online, the TTL ends it.
 */
export class PresenceService {
  constructor(private readonly deps: Pick<CoreDeps, 'presence' | 'limits'>) {}

  /** The connection `route` of the device is up (its client has read the welcome). */
  online(device: DeviceAddress, route: Route): Promise<void> {
    return this.deps.presence.markOnline(presenceEntryOf(device, route), this.deps.limits.presenceTtlMs);
  }

  /** That connection is gone; the device's other connections keep their own entries. */
  offline(device: DeviceAddress, route: Route): Promise<void> {
    return this.deps.presence.markOffline(presenceEntryOf(device, route));
  }

  /** Starts watching; the listener first hears the current state, then every change. */
  async watch(userId: UserId, listener: (state: PresenceState) => void): Promise<Unsubscribe> {
    const unsubscribe = this.deps.presence.watch(userId, listener);
    listener(await this.deps.presence.get(userId));
    return unsubscribe;
  }
}

/**
 * The presence entry of one connection of a device. One entry per connection, not per device: a
 * device's old connection that ends late (its client had already reconnected, elsewhere or here)
 * removes only its own entry, never the live connection's.
 */
export function presenceEntryOf(device: DeviceAddress, route: Route): DeviceAddress {
  return { userId: device.userId, deviceId: `${device.deviceId}@${route.nodeId}/${route.connectionId}` };
}

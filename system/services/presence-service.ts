import type { DeviceAddress, UserId } from '../core/ids.js';
import type { PresenceState, Unsubscribe } from '../ports/presence-store.js';
import type { CoreDeps } from './deps.js';

/**
 * Lazy presence: a connection watches only the users it names (the people it is chatting with),
 * never a whole contact list; connect and heartbeats keep a device online, the TTL ends it.
 */
export class PresenceService {
  constructor(private readonly deps: Pick<CoreDeps, 'presence' | 'limits'>) {}

  online(device: DeviceAddress): Promise<void> {
    return this.deps.presence.markOnline(device, this.deps.limits.presenceTtlMs);
  }

  offline(device: DeviceAddress): Promise<void> {
    return this.deps.presence.markOffline(device);
  }

  /** Starts watching; the listener first hears the current state, then every change. */
  async watch(userId: UserId, listener: (state: PresenceState) => void): Promise<Unsubscribe> {
    const unsubscribe = this.deps.presence.watch(userId, listener);
    listener(await this.deps.presence.get(userId));
    return unsubscribe;
  }
}

import { deviceKey, type DeviceAddress } from '../core/ids.js';
import type { Route } from '../ports/connection-registry.js';
import type { ServerFrame } from '../protocol/frames.js';
import type { CoreDeps } from './deps.js';
import type { PushNotifier } from './push-notifier.js';

interface CachedRoute {
  route: Route;
  expiresAtMs: number;
}

/**
 * Where connected devices are, remembered for routeCacheTtlMs so that a busy conversation does not
 * ask the registry (a Redis round trip and a Lua script) for the same few devices on every event.
 *
 * Only positive answers are kept: a device not found connected is looked up again next time, so a
 * device that comes online is reached at once. A kept route can go stale (the device reconnected
 * elsewhere or left); frames sent on a kept route therefore name their device, and a miss comes back
 * through Router.onUndeliverable — from the node that no longer has the connection, or from the
 * router when that node is down — to be redelivered here from a fresh lookup, or announced by push
 * when the device is offline. The inbox holds the durable copy throughout, so a frame the
 * redelivery also misses is still delivered when the device next drains its inbox.
 */
export class DeviceRoutes {
  private readonly cache = new Map<string, CachedRoute>();
  /** Devices answered from the cache, and looked up in the registry (for the benchmarks). */
  readonly stats = { cached: 0, lookedUp: 0, redelivered: 0 };

  constructor(
    private readonly deps: Pick<CoreDeps, 'registry' | 'router' | 'directory' | 'clock' | 'limits'>,
    private readonly pushNotifier: PushNotifier,
  ) {
    deps.router.onUndeliverable?.((device, missedRoute, frame) => {
      void this.redeliver(device, missedRoute, frame).catch(() => {
        // Best effort, like every live delivery: the inbox still holds the frame's event.
      });
    });
  }

  /** The routes of those devices that are connected, by deviceKey; one registry round trip for all the others' users. */
  async resolve(devices: readonly DeviceAddress[]): Promise<Map<string, Route>> {
    const nowMs = this.deps.clock.nowMs();
    const routes = new Map<string, Route>();
    const unknownUsers = new Set<string>();
    for (const device of devices) {
      const key = deviceKey(device);
      const cached = this.cache.get(key);
      if (cached && cached.expiresAtMs > nowMs) {
        routes.set(key, cached.route);
        this.stats.cached++;
      } else {
        unknownUsers.add(device.userId);
      }
    }
    if (unknownUsers.size === 0) return routes;
    const wanted = new Set(devices.map(deviceKey));
    const found = await this.deps.registry.lookupMany([...unknownUsers]);
    for (const [userId, entries] of found) {
      for (const { deviceId, route } of entries) {
        const key = deviceKey({ userId, deviceId });
        this.remember(key, route, nowMs);
        if (wanted.has(key) && !routes.has(key)) {
          routes.set(key, route);
          this.stats.lookedUp++;
        }
      }
    }
    return routes;
  }

  /** Sends on the route, naming the device so that a stale route is noticed and redelivered. */
  deliver(device: DeviceAddress, route: Route, frame: ServerFrame): Promise<void> {
    return this.deps.router.deliver(route, frame, device);
  }

  /**
   * A frame missed its device at `missedRoute`: forget that route, look the device up afresh and
   * send the frame once more (without naming the device: a second miss is not chased), or, for an
   * event, announce it by push when the device is no longer connected.
   */
  private async redeliver(device: DeviceAddress, missedRoute: Route, frame: ServerFrame): Promise<void> {
    const key = deviceKey(device);
    if (sameRoute(this.cache.get(key)?.route, missedRoute)) this.cache.delete(key);
    this.stats.redelivered++;
    const live = (await this.deps.registry.lookup(device.userId)).find((entry) => entry.deviceId === device.deviceId);
    // An entry still naming the missed route is the gone connection's, not yet removed or expired.
    if (live && !sameRoute(live.route, missedRoute)) {
      this.remember(key, live.route, this.deps.clock.nowMs());
      await this.deps.router.deliver(live.route, frame);
      return;
    }
    if (frame.type !== 'event') return;
    const record = (await this.deps.directory.listDevicesMany([device.userId]))
      .get(device.userId)
      ?.find((d) => d.deviceId === device.deviceId);
    if (record?.pushToken) this.pushNotifier.notify(device, record.pushToken, frame.event.conversationId);
  }

  private remember(key: string, route: Route, nowMs: number): void {
    // Re-inserted so that the Map's first key is the least recently filled, the one to evict.
    this.cache.delete(key);
    this.cache.set(key, { route, expiresAtMs: nowMs + this.deps.limits.routeCacheTtlMs });
    if (this.cache.size > this.deps.limits.routeCacheEntriesMax) this.cache.delete(this.cache.keys().next().value!);
  }
}

function sameRoute(a: Route | undefined, b: Route): boolean {
  return a !== undefined && a.nodeId === b.nodeId && a.connectionId === b.connectionId;
}

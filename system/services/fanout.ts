import type { ConversationEvent } from '../core/events.js';
import type { DeviceAddress, UserId } from '../core/ids.js';
import type { Route } from '../ports/connection-registry.js';
import type { CoreDeps } from './deps.js';
import type { PushNotifier } from './push-notifier.js';

/**
 * Fan-out on write: an accepted event is queued in the inbox of every recipient device (the
 * durable copy), then pushed to the devices that are connected, and announced by push to
 * those that are not. The caller holds the conversation's serializer, so events leave in seq order.
 */
export class Fanout {
  constructor(
    private readonly deps: Pick<CoreDeps, 'directory' | 'inbox' | 'registry' | 'router' | 'metrics'>,
    private readonly pushNotifier: PushNotifier,
  ) {}

  /** Returns how many devices the event was queued for. */
  async distribute(event: ConversationEvent, recipients: readonly UserId[], excludeDevice?: DeviceAddress): Promise<number> {
    const perUser = await Promise.all(recipients.map((userId) => this.queueForUser(event, userId, excludeDevice)));
    const frame = { type: 'event' as const, event };
    const routed: Array<Promise<void>> = [];
    let queued = 0;
    for (const user of perUser) {
      queued += user.queued;
      for (const route of user.online) routed.push(this.deps.router.deliver(route, frame));
      for (const offline of user.offlineWithToken) this.pushNotifier.notify(offline.device, offline.token, event.conversationId);
    }
    await Promise.all(routed);
    this.deps.metrics.fanout(queued);
    return queued;
  }

  private async queueForUser(event: ConversationEvent, userId: UserId, exclude: DeviceAddress | undefined) {
    const [devices, online] = await Promise.all([this.deps.directory.listDevices(userId), this.deps.registry.lookup(userId)]);
    const onlineRoutes = new Map(online.map((o) => [o.deviceId, o.route] as const));
    const targets = devices.filter((d) => !(exclude && d.userId === exclude.userId && d.deviceId === exclude.deviceId));
    await Promise.all(targets.map((d) => this.deps.inbox.enqueue(d, event)));
    const result = { queued: targets.length, online: [] as Route[], offlineWithToken: [] as Array<{ device: DeviceAddress; token: string }> };
    for (const device of targets) {
      const route = onlineRoutes.get(device.deviceId);
      if (route) result.online.push(route);
      else if (device.pushToken) result.offlineWithToken.push({ device, token: device.pushToken });
    }
    return result;
  }
}

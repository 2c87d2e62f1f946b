import type { ConversationEvent } from '../core/events.js';
import { deviceKey, type DeviceAddress, type UserId } from '../core/ids.js';
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
    private readonly deps: Pick<CoreDeps, 'directory' | 'inbox' | 'registry' | 'router' | 'metrics' | 'receipts'>,
    private readonly pushNotifier: PushNotifier,
  ) {}

  /**
   * Returns how many devices the event was queued for. `retry` marks a repeated fan-out (a
   * duplicate send): devices that already acknowledged the event are skipped, so it does not
   * come back into their inboxes and get delivered twice.
   */
  async distribute(
    event: ConversationEvent,
    recipients: readonly UserId[],
    excludeDevice?: DeviceAddress,
    options: { retry?: boolean } = {},
  ): Promise<number> {
    const acknowledged = options.retry ? await this.acknowledgedDevices(event) : undefined;
    const frame = { type: 'event' as const, event };
    const routed: Array<Promise<void>> = [];
    // Each user's devices are told as soon as that user's inbox copies are written: a group's
    // first deliveries need not wait for the slowest of its members' inbox writes. Order per
    // device holds: the conversation's serializer keeps the next event out until this returns.
    const queuedPerUser = await Promise.all(
      recipients.map(async (userId) => {
        const user = await this.queueForUser(event, userId, excludeDevice, acknowledged);
        for (const route of user.online) routed.push(this.deps.router.deliver(route, frame));
        for (const offline of user.offlineWithToken) this.pushNotifier.notify(offline.device, offline.token, event.conversationId);
        return user.queued;
      }),
    );
    if (options.retry) await this.unqueueAcknowledgedSince(event, acknowledged!);
    const queued = queuedPerUser.reduce((sum, n) => sum + n, 0);
    await Promise.all(routed);
    this.deps.metrics.fanout(queued);
    return queued;
  }

  /**
   * A device may acknowledge the event while a retried fan-out is re-queueing it (its ack raced
   * the retry's first watermark read). The ack raises the watermark before it clears the inbox,
   * so reading the watermarks again after queueing catches every such device.
   */
  private async unqueueAcknowledgedSince(event: ConversationEvent, before: Set<string>): Promise<void> {
    const marks = await this.deps.receipts.list(event.conversationId);
    const late = marks.filter((m) => m.deliveredSeq >= event.seq && !before.has(deviceKey(m)));
    await Promise.all(late.map((m) => this.deps.inbox.ackThrough(m, event.conversationId, m.deliveredSeq)));
  }

  /** Devices whose delivered watermark already covers the event. */
  private async acknowledgedDevices(event: ConversationEvent): Promise<Set<string>> {
    const marks = await this.deps.receipts.list(event.conversationId);
    return new Set(marks.filter((m) => m.deliveredSeq >= event.seq).map((m) => deviceKey(m)));
  }

  private async queueForUser(event: ConversationEvent, userId: UserId, exclude: DeviceAddress | undefined, acknowledged?: Set<string>) {
    const [devices, online] = await Promise.all([this.deps.directory.listDevices(userId), this.deps.registry.lookup(userId)]);
    const onlineRoutes = new Map(online.map((o) => [o.deviceId, o.route] as const));
    const targets = devices.filter(
      (d) => !(exclude && d.userId === exclude.userId && d.deviceId === exclude.deviceId) && !acknowledged?.has(deviceKey(d)),
    );
    await Promise.all(targets.map((d) => this.deps.inbox.enqueue(d, event)));
    const result = { queued: targets.length, online: [] as Route[], offlineWithToken: [] as Array<{ device: DeviceAddress; token: string }> };
    for (const device of targets) {
      const route = onlineRoutes.get(device.deviceId);
      if (route) result.online.push(route);
      else if (device.pushToken) {
        result.offlineWithToken.push({ device: { userId: device.userId, deviceId: device.deviceId }, token: device.pushToken });
      }
    }
    return result;
  }
}

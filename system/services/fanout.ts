import type { ConversationEvent } from '../core/events.js';
import { deviceKey, type DeviceAddress, type UserId } from '../core/ids.js';
import type { DeviceRecord } from '../ports/directory-store.js';
import type { CoreDeps } from './deps.js';
import type { DeviceRoutes } from './device-routes.js';
import type { PushNotifier } from './push-notifier.js';

/**
 * Fan-out on write: an accepted event is queued in the inbox of every recipient device (the
 * durable copy), then pushed to the devices that are connected, and announced by push to
 * those that are not. The caller holds the conversation's serializer, so events leave in seq order.
 */
export class Fanout {
  constructor(
    private readonly deps: Pick<CoreDeps, 'directory' | 'inbox' | 'metrics' | 'receipts'>,
    private readonly routes: DeviceRoutes,
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
    const devices = await this.devicesToQueue(recipients, excludeDevice, acknowledged);
    // One batch per store for the whole event: one round trip per tier, not one per member and
    // device (a 69-member group made ~220 separate calls). Queue first, then look up routes: a
    // device that connects meanwhile registers before it drains its inbox (Session), so it either
    // is found here and gets the event live, or finds the event already queued.
    if (devices.length === 0) {
      // Nothing queued, so nothing a racing ack could need taken out again.
      this.deps.metrics.fanout(0);
      return 0;
    }
    await this.deps.inbox.enqueueMany(devices, event);
    const online = await this.routes.resolve(devices);
    const frame = { type: 'event' as const, event };
    const routed: Array<Promise<void>> = [];
    for (const device of devices) {
      const route = online.get(deviceKey(device));
      if (route) routed.push(this.routes.deliver(device, route, frame));
      else if (device.pushToken)
        this.pushNotifier.notify({ userId: device.userId, deviceId: device.deviceId }, device.pushToken, event.conversationId);
    }
    // Awaited together with the deliveries already under way: a delivery that fails (Redis
    // unreachable) while the watermarks are read again must already have its handler, or the
    // rejection is unhandled and the gateway process exits (found by the seed swarm:
    // npm run sim:swarm -- scenarios/swarm-small.yaml --seed 3 --faults 2).
    await Promise.all([options.retry ? this.unqueueAcknowledgedSince(event, acknowledged!) : undefined, ...routed]);
    this.deps.metrics.fanout(devices.length);
    return devices.length;
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

  /** Every recipient's linked devices (one directory batch), minus the excluded and the acknowledged ones. */
  private async devicesToQueue(
    recipients: readonly UserId[],
    exclude: DeviceAddress | undefined,
    acknowledged?: Set<string>,
  ): Promise<DeviceRecord[]> {
    if (recipients.length === 0) return [];
    const devicesByUser = await this.deps.directory.listDevicesMany(recipients);
    const targets: DeviceRecord[] = [];
    for (const devices of devicesByUser.values()) {
      for (const device of devices) {
        if (exclude && device.userId === exclude.userId && device.deviceId === exclude.deviceId) continue;
        if (!acknowledged?.has(deviceKey(device))) targets.push(device);
      }
    }
    return targets;
  }
}

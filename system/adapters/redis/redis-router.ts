import type { DeviceAddress } from '../../core/ids.js';
import type { Route } from '../../ports/connection-registry.js';
import type { Logger } from '../../ports/logger.js';
import type { Router, UndeliverableHandler } from '../../ports/router.js';
import type { ServerFrame } from '../../protocol/frames.js';
import type { LocalRouter } from '../memory/local-router.js';
import { storageCall, type Redis, type RedisKeys } from './redis-client.js';
import type { SubscriberHub, Subscription } from './subscriber-hub.js';

/** A device as it travels in an envelope: `userId/deviceId` (ids cannot hold a slash). */
type DeviceTag = string;

/**
 * What travels on a node channel: the frame and its target connection (`c`), or several target
 * connections of that node (`cs`) when one frame goes to many (a group's fan-out). `d` (or `ds`,
 * aligned with `cs`, null where none was named) names the device each delivery was for, so that
 * the receiving node can report a connection that is gone (Router.onUndeliverable).
 */
interface Envelope {
  c?: string;
  cs?: string[];
  d?: DeviceTag;
  ds?: Array<DeviceTag | null>;
  f: ServerFrame;
}

/** Deliveries to one node waiting for the end of the current turn of the event loop. */
interface PendingDelivery {
  connectionId: string;
  frame: ServerFrame;
  device: DeviceAddress | undefined;
  done: { resolve(): void; reject(error: unknown): void };
}

/**
 * Router for several gateway processes. Frames for this node's connections go straight to the
 * LocalRouter; frames for another node are PUBLISHed on that node's channel `node:{nodeId}`,
 * which each node subscribes to, handing what arrives to its own LocalRouter.
 *
 * Order: everything one node publishes goes over its single command connection, and Redis
 * delivers the messages of one publisher connection on one channel in order, so frames to one
 * connection arrive in the order deliver() was called (the fan-out holds the conversation's
 * serializer across deliver, so a conversation's events reach each recipient in seq order).
 *
 * Batching: deliveries requested in one turn of the event loop are published at its end, one
 * message per run of consecutive deliveries of the same frame to the same node. A group's event
 * for 255 members on 3 nodes is then 3 publishes (one JSON encoding each, one decoding on each
 * receiving node, whose connections share the decoded frame and so its encoding) instead of 255.
 * The queue per node is FIFO and flushed in order, so the order argument above still holds.
 *
 * Best effort, as the port says: a frame for a node that is gone is dropped by Redis (no
 * subscriber); when it named its device, the publish's receiver count (0) sends it to the
 * undeliverable handler here instead, as a closed connection on a live node does there. A publish that cannot reach Redis fails with STORAGE_UNAVAILABLE, so a sender can
 * retry (the retried fan-out re-delivers to devices that have not acknowledged).
 */
export class RedisRouter implements Router {
  private subscription: Subscription | undefined;
  private readonly pending = new Map<string, PendingDelivery[]>();
  private flushScheduled = false;
  private undeliverable: UndeliverableHandler | undefined;

  constructor(
    readonly local: LocalRouter,
    private readonly redis: Redis,
    private readonly hub: SubscriberHub,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
  ) {}

  get nodeId(): string {
    return this.local.nodeId;
  }

  /** Subscribes to this node's channel; resolves once frames for it are flowing. */
  async start(): Promise<void> {
    if (this.subscription) return this.subscription.ready;
    this.subscription = this.hub.subscribe(this.keys.nodeChannel(this.nodeId), (message) => this.receive(message));
    await this.subscription.ready;
  }

  onUndeliverable(handler: UndeliverableHandler): void {
    this.undeliverable = handler;
    this.local.onUndeliverable(handler);
  }

  async deliver(route: Route, frame: ServerFrame, device?: DeviceAddress): Promise<void> {
    if (route.nodeId === this.nodeId) {
      await this.local.deliver(route, frame, device);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      let queue = this.pending.get(route.nodeId);
      if (!queue) this.pending.set(route.nodeId, (queue = []));
      queue.push({ connectionId: route.connectionId, frame, device, done: { resolve, reject } });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  /** Publishes what this turn queued: per node, one message per run of one frame. */
  private flush(): void {
    this.flushScheduled = false;
    const byNode = [...this.pending];
    this.pending.clear();
    for (const [nodeId, queue] of byNode) {
      const channel = this.keys.nodeChannel(nodeId);
      for (let start = 0; start < queue.length;) {
        let end = start + 1;
        while (end < queue.length && queue[end]!.frame === queue[start]!.frame) end++;
        const run = queue.slice(start, end);
        storageCall('router publish', () => this.redis.publish(channel, JSON.stringify(envelopeOf(run)))).then(
          (receivers) => {
            if (receivers === 0) this.missedNode(nodeId, run);
            run.forEach((d) => d.done.resolve());
          },
          (error: unknown) => run.forEach((d) => d.done.reject(error)),
        );
        start = end;
      }
    }
  }

  /** Nobody subscribes to the node's channel (it is down): its deliveries that named a device were missed. */
  private missedNode(nodeId: string, run: PendingDelivery[]): void {
    for (const delivery of run) {
      if (delivery.device) this.undeliverable?.(delivery.device, { nodeId, connectionId: delivery.connectionId }, delivery.frame);
    }
  }

  stop(): void {
    this.subscription?.release();
    this.subscription = undefined;
  }

  private receive(message: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message) as Envelope;
      const targets = envelope.cs ?? [envelope.c];
      if (!Array.isArray(targets) || targets.some((c) => typeof c !== 'string') || typeof envelope.f !== 'object' || envelope.f === null) {
        throw new Error('not an envelope');
      }
      if (envelope.ds !== undefined && (!Array.isArray(envelope.ds) || envelope.ds.length !== targets.length))
        throw new Error('device tags do not match the targets');
    } catch (error) {
      this.logger.warn('router dropped a malformed message', { nodeId: this.nodeId, error: (error as Error).message });
      return;
    }
    // LocalRouter.deliver does its work synchronously, so frames keep their arrival order.
    const targets = envelope.cs ?? [envelope.c!];
    const tags = envelope.ds ?? [envelope.d ?? null];
    targets.forEach((connectionId, i) => {
      this.local.deliver({ nodeId: this.nodeId, connectionId }, envelope.f, deviceOf(tags[i])).catch((error: unknown) => {
        this.logger.error('local delivery failed', { nodeId: this.nodeId, error: (error as Error).message });
      });
    });
  }
}

/** One run of deliveries of one frame to one node, as one message; device tags only when some delivery named one. */
function envelopeOf(run: PendingDelivery[]): Envelope {
  const frame = run[0]!.frame;
  if (run.length === 1) {
    const device = run[0]!.device;
    return { c: run[0]!.connectionId, ...(device ? { d: tagOf(device) } : {}), f: frame };
  }
  const tagged = run.some((d) => d.device);
  return { cs: run.map((d) => d.connectionId), ...(tagged ? { ds: run.map((d) => (d.device ? tagOf(d.device) : null)) } : {}), f: frame };
}

function tagOf(device: DeviceAddress): DeviceTag {
  return `${device.userId}/${device.deviceId}`;
}

/** The device a tag names; a tag that is not one (a malformed message) names none. */
function deviceOf(tag: DeviceTag | null | undefined): DeviceAddress | undefined {
  if (typeof tag !== 'string') return undefined;
  const slash = tag.indexOf('/');
  if (slash <= 0 || slash === tag.length - 1) return undefined;
  return { userId: tag.slice(0, slash), deviceId: tag.slice(slash + 1) };
}

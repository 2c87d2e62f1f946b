import type { Route } from '../../ports/connection-registry.js';
import type { Logger } from '../../ports/logger.js';
import type { Router } from '../../ports/router.js';
import type { ServerFrame } from '../../protocol/frames.js';
import type { LocalRouter } from '../memory/local-router.js';
import { storageCall, type Redis, type RedisKeys } from './redis-client.js';
import type { SubscriberHub, Subscription } from './subscriber-hub.js';

/**
 * What travels on a node channel: the frame and its target connection (`c`), or several target
 * connections of that node (`cs`) when one frame goes to many (a group's fan-out).
 */
interface Envelope {
  c?: string;
  cs?: string[];
  f: ServerFrame;
}

/** Deliveries to one node waiting for the end of the current turn of the event loop. */
interface PendingDelivery {
  connectionId: string;
  frame: ServerFrame;
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
 * subscriber). A publish that cannot reach Redis fails with STORAGE_UNAVAILABLE, so a sender can
 * retry (the retried fan-out re-delivers to devices that have not acknowledged).
 */
export class RedisRouter implements Router {
  private subscription: Subscription | undefined;
  private readonly pending = new Map<string, PendingDelivery[]>();
  private flushScheduled = false;

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

  async deliver(route: Route, frame: ServerFrame): Promise<void> {
    if (route.nodeId === this.nodeId) {
      await this.local.deliver(route, frame);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      let queue = this.pending.get(route.nodeId);
      if (!queue) this.pending.set(route.nodeId, (queue = []));
      queue.push({ connectionId: route.connectionId, frame, done: { resolve, reject } });
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
      for (let start = 0; start < queue.length; ) {
        let end = start + 1;
        while (end < queue.length && queue[end]!.frame === queue[start]!.frame) end++;
        const run = queue.slice(start, end);
        const envelope: Envelope = run.length === 1 ? { c: run[0]!.connectionId, f: run[0]!.frame } : { cs: run.map((d) => d.connectionId), f: run[0]!.frame };
        storageCall('router publish', () => this.redis.publish(channel, JSON.stringify(envelope))).then(
          () => run.forEach((d) => d.done.resolve()),
          (error: unknown) => run.forEach((d) => d.done.reject(error)),
        );
        start = end;
      }
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
    } catch (error) {
      this.logger.warn('router dropped a malformed message', { nodeId: this.nodeId, error: (error as Error).message });
      return;
    }
    // LocalRouter.deliver does its work synchronously, so frames keep their arrival order.
    for (const connectionId of envelope.cs ?? [envelope.c!]) {
      this.local.deliver({ nodeId: this.nodeId, connectionId }, envelope.f).catch((error: unknown) => {
        this.logger.error('local delivery failed', { nodeId: this.nodeId, error: (error as Error).message });
      });
    }
  }
}

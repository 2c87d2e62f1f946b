import type { Route } from '../../ports/connection-registry.js';
import type { Logger } from '../../ports/logger.js';
import type { Router } from '../../ports/router.js';
import type { ServerFrame } from '../../protocol/frames.js';
import type { LocalRouter } from '../memory/local-router.js';
import { storageCall, type Redis, type RedisKeys } from './redis-client.js';
import type { SubscriberHub, Subscription } from './subscriber-hub.js';

/** What travels on a node channel: the target connection and the frame. */
interface Envelope {
  c: string;
  f: ServerFrame;
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
 * Best effort, as the port says: a frame for a node that is gone is dropped by Redis (no
 * subscriber). A publish that cannot reach Redis fails with STORAGE_UNAVAILABLE, so a sender can
 * retry (the retried fan-out re-delivers to devices that have not acknowledged).
 */
export class RedisRouter implements Router {
  private subscription: Subscription | undefined;

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
    const envelope: Envelope = { c: route.connectionId, f: frame };
    await storageCall('router publish', () => this.redis.publish(this.keys.nodeChannel(route.nodeId), JSON.stringify(envelope)));
  }

  stop(): void {
    this.subscription?.release();
    this.subscription = undefined;
  }

  private receive(message: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message) as Envelope;
      if (typeof envelope.c !== 'string' || typeof envelope.f !== 'object' || envelope.f === null) throw new Error('not an envelope');
    } catch (error) {
      this.logger.warn('router dropped a malformed message', { nodeId: this.nodeId, error: (error as Error).message });
      return;
    }
    // LocalRouter.deliver does its work synchronously, so frames keep their arrival order.
    this.local.deliver({ nodeId: this.nodeId, connectionId: envelope.c }, envelope.f).catch((error: unknown) => {
      this.logger.error('local delivery failed', { nodeId: this.nodeId, error: (error as Error).message });
    });
  }
}

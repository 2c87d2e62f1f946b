import { ChatError } from '../../core/errors.js';
import type { DeviceAddress } from '../../core/ids.js';
import type { LocalDelivery } from '../../gateway/gateway-node.js';
import type { Route } from '../../ports/connection-registry.js';
import type { Router, UndeliverableHandler } from '../../ports/router.js';
import type { ServerFrame } from '../../protocol/frames.js';
import { LocalRouter } from '../memory/local-router.js';
import type { ServiceTier } from './service-tier.js';
import type { SimTime } from './sim-time.js';

/** Which gateway incarnations are up, for frames crossing between them. */
export class SimulatedBus {
  private readonly nodes = new Map<string, SimulatedRouter>();
  framesCrossed = 0;

  constructor(
    readonly time: SimTime,
    readonly redis: ServiceTier,
  ) {}

  register(router: SimulatedRouter): void {
    this.nodes.set(router.nodeId, router);
  }

  /** The live incarnation of a node, if any. */
  node(nodeId: string): SimulatedRouter | undefined {
    return this.nodes.get(nodeId);
  }
}

/**
 * The Router port of one simulated gateway: frames for its own connections go straight to them
 * (as LocalRouter does); frames for another node cross Redis pub/sub — one publish and one
 * delivery, in order per (publisher, target) pair as Redis keeps them — and are dropped when the
 * target is down, as a channel without a subscriber drops them (a frame naming its device then goes
 * to this node's undeliverable handler, as the publish's receiver count of 0 does). Publishing while Redis is
 * unreachable fails with STORAGE_UNAVAILABLE, like the production RedisRouter.
 */
export class SimulatedRouter implements Router, LocalDelivery {
  readonly local: LocalRouter;
  private readonly lastArrivalMs = new Map<string, number>();
  private undeliverable: UndeliverableHandler | undefined;

  constructor(
    readonly nodeId: string,
    private readonly bus: SimulatedBus,
    private readonly isAlive: () => boolean,
  ) {
    this.local = new LocalRouter(nodeId);
    bus.register(this);
  }

  attach(connectionId: string, endpoint: { deliverFrame(frame: ServerFrame): void }): void {
    this.local.attach(connectionId, endpoint);
  }

  detach(connectionId: string, endpoint: { deliverFrame(frame: ServerFrame): void }): void {
    this.local.detach(connectionId, endpoint);
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
    const { redis, time } = this.bus;
    if (!redis.isAvailable) throw new ChatError('STORAGE_UNAVAILABLE', 'redis is unreachable: router publish failed');
    const now = time.nowMs();
    const wanted = now + redis.model.oneWayLatencyMs() + redis.model.oneWayLatencyMs();
    const arrival = Math.max(wanted, this.lastArrivalMs.get(route.nodeId) ?? 0);
    this.lastArrivalMs.set(route.nodeId, arrival);
    this.bus.framesCrossed++;
    time.schedule(arrival - now, () => {
      if (!redis.isAvailable) return;
      const target = this.bus.node(route.nodeId);
      if (target && target.isAlive()) void target.local.deliver(route, frame, device);
      else if (device && this.isAlive()) this.undeliverable?.(device, route, frame);
    });
  }
}

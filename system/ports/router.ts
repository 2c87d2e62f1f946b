import type { DeviceAddress } from '../core/ids.js';
import type { ServerFrame } from '../protocol/frames.js';
import type { Route } from './connection-registry.js';

/**
 * Called on the node that finds a frame undeliverable: it named its device, and the connection
 * its route points at is gone (closed, or its node is down). The frame's durable copy is in the
 * device's inbox either way; the handler's job is to reach the device where it is now.
 */
export type UndeliverableHandler = (device: DeviceAddress, missedRoute: Route, frame: ServerFrame) => void;

/**
 * Hands a frame to a connection on some gateway node: in-process for the local node, over a bus
 * (e.g. Redis pub/sub) for remote ones. Delivery is best effort: the inbox is the durable copy.
 */
export interface Router {
  /**
   * `device` names whom the route was looked up for. A caller that may hold a stale route (a
   * cached one) names it, so that a miss reaches the undeliverable handler instead of vanishing.
   */
  deliver(route: Route, frame: ServerFrame, device?: DeviceAddress): Promise<void>;
  /** Where misses of frames that name their device go (one handler per router; the last one set wins). */
  onUndeliverable?(handler: UndeliverableHandler): void;
}

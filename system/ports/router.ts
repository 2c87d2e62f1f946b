import type { ServerFrame } from '../protocol/frames.js';
import type { Route } from './connection-registry.js';

/**
 * Hands a frame to a connection on some gateway node: in-process for the local node, over a bus
 * (e.g. Redis pub/sub) for remote ones. Delivery is best effort: the inbox is the durable copy.
 */
export interface Router {
  deliver(route: Route, frame: ServerFrame): Promise<void>;
}

import type { DeviceAddress } from '../../core/ids.js';
import type { ServerFrame } from '../../protocol/frames.js';
import type { Route } from '../../ports/connection-registry.js';
import type { Router, UndeliverableHandler } from '../../ports/router.js';

export interface LocalEndpoint {
  deliverFrame(frame: ServerFrame): void;
}

/**
 * Routes frames to connections of this process. The embedded world has one node; the production
 * world wraps this with a bus that forwards frames for other nodes.
 */
export class LocalRouter implements Router {
  private readonly endpoints = new Map<string, LocalEndpoint>();
  private undeliverable: UndeliverableHandler | undefined;

  constructor(readonly nodeId: string) {}

  attach(connectionId: string, endpoint: LocalEndpoint): void {
    this.endpoints.set(connectionId, endpoint);
  }

  detach(connectionId: string, endpoint: LocalEndpoint): void {
    if (this.endpoints.get(connectionId) === endpoint) this.endpoints.delete(connectionId);
  }

  onUndeliverable(handler: UndeliverableHandler): void {
    this.undeliverable = handler;
  }

  async deliver(route: Route, frame: ServerFrame, device?: DeviceAddress): Promise<void> {
    if (route.nodeId !== this.nodeId) return;
    const endpoint = this.endpoints.get(route.connectionId);
    if (endpoint) endpoint.deliverFrame(frame);
    else if (device) this.undeliverable?.(device, route, frame);
  }

  get connectionCount(): number {
    return this.endpoints.size;
  }
}

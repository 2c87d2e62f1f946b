import { describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../protocol/frames.js';
import type { Route } from '../connection-registry.js';
import type { DeviceAddress } from '../../core/ids.js';
import type { Router } from '../router.js';
import { eventually, range, uniqueHex, useSubject, type Disposable } from './support.js';

export interface RouterNode {
  nodeId: string;
  router: Router;
  /** Attaches a connection on this node, as its gateway does; returns the detach. */
  attach(connectionId: string, onFrame: (frame: ServerFrame) => void): () => void;
}

export interface RouterSubject extends Disposable {
  /** One node for a single-process router; two or more to check delivery across nodes. */
  nodes: RouterNode[];
  /** Waits long enough that a frame that would arrive has arrived (default: none, delivery is synchronous). */
  settle?: () => Promise<void>;
  /** How long an expected frame may take to arrive (default 2000). */
  eventuallyTimeoutMs?: number;
}

/** The Router contract: a frame reaches exactly the connection its route names, in send order. */
export function routerContract(name: string, make: () => Promise<RouterSubject>): void {
  describe(name, () => {
    const subject = useSubject(make);
    const nodes = () => subject().nodes;
    const settle = async () => {
      await subject().settle?.();
    };
    const timeout = () => subject().eventuallyTimeoutMs ?? 2000;

    const frame = (n: number): ServerFrame => ({ type: 'heartbeat_ack', serverTimeMs: n });

    function connect(node: RouterNode) {
      const connectionId = `conn-${uniqueHex()}`;
      const frames: ServerFrame[] = [];
      const detach = node.attach(connectionId, (f) => frames.push(f));
      const route: Route = { nodeId: node.nodeId, connectionId };
      return { route, frames, detach };
    }

    it('delivers a frame to the connection its route names, once', async () => {
      const node = nodes()[0]!;
      const target = connect(node);
      const bystander = connect(node);
      await node.router.deliver(target.route, frame(1));
      await eventually(() => expect(target.frames).toEqual([frame(1)]), timeout());
      await settle();
      expect(target.frames).toEqual([frame(1)]);
      expect(bystander.frames).toEqual([]);
      target.detach();
      bystander.detach();
    });

    it('frames to one route arrive in the order they were delivered', async () => {
      const node = nodes()[0]!;
      const target = connect(node);
      for (const n of range(1, 30)) await node.router.deliver(target.route, frame(n));
      await eventually(() => expect(target.frames).toEqual(range(1, 30).map(frame)), timeout());
      target.detach();
    });

    it('delivery to an unknown connection or node is dropped quietly (best effort)', async () => {
      const node = nodes()[0]!;
      const local = connect(node);
      await node.router.deliver({ nodeId: node.nodeId, connectionId: `conn-${uniqueHex()}` }, frame(1));
      await node.router.deliver({ nodeId: `node-${uniqueHex()}`, connectionId: local.route.connectionId }, frame(2));
      await settle();
      expect(local.frames).toEqual([]);
      local.detach();
    });

    it('a detached connection receives nothing more', async () => {
      const node = nodes()[0]!;
      const target = connect(node);
      await node.router.deliver(target.route, frame(1));
      await eventually(() => expect(target.frames).toHaveLength(1), timeout());
      target.detach();
      await node.router.deliver(target.route, frame(2));
      await settle();
      expect(target.frames).toEqual([frame(1)]);
    });

    /** Misses reported to a node's undeliverable handler: device, missed route, frame. */
    function misses(node: RouterNode): Array<[DeviceAddress, Route, ServerFrame]> {
      const seen: Array<[DeviceAddress, Route, ServerFrame]> = [];
      node.router.onUndeliverable?.((device, route, f) => seen.push([device, route, f]));
      return seen;
    }

    it('a frame naming its device, whose connection is gone, goes to the undeliverable handler of the node that had it', async ({
      skip,
    }) => {
      if (!nodes()[0]!.router.onUndeliverable) return skip('this router reports no misses');
      const pairs: Array<[RouterNode, RouterNode]> = nodes().length > 1 ? [[nodes()[0]!, nodes()[1]!]] : [[nodes()[0]!, nodes()[0]!]];
      for (const [from, to] of pairs) {
        const fromMisses = from === to ? [] : misses(from);
        const toMisses = misses(to);
        const gone = connect(to);
        gone.detach();
        const device = { userId: 'bob', deviceId: 'phone' };
        await from.router.deliver(gone.route, frame(1), device);
        // Without a device the miss is not reported: a redelivery does not chase itself.
        await from.router.deliver(gone.route, frame(2));
        await eventually(() => expect(toMisses).toEqual([[device, gone.route, frame(1)]]), timeout());
        await settle();
        expect(toMisses).toHaveLength(1);
        expect(fromMisses).toEqual([]);
        expect(gone.frames).toEqual([]);
      }
    });

    it("a frame naming its device, for a node nobody serves (it is down), goes to the sending node's handler", async ({ skip }) => {
      if (nodes().length < 2) return skip('a single-node router');
      const from = nodes()[0]!;
      const fromMisses = misses(from);
      const route = { nodeId: `node-${uniqueHex()}`, connectionId: `conn-${uniqueHex()}` };
      const device = { userId: 'carol', deviceId: 'laptop' };
      await from.router.deliver(route, frame(3), device);
      await eventually(() => expect(fromMisses).toEqual([[device, route, frame(3)]]), timeout());
    });

    it('delivers across nodes, to the named node only', async ({ skip }) => {
      if (nodes().length < 2) return skip('a single-node router');
      const [from, to] = [nodes()[0]!, nodes()[1]!];
      const remote = connect(to);
      // A connection with the same id on the sending node must not receive it.
      const frames: ServerFrame[] = [];
      const detachLocal = from.attach(remote.route.connectionId, (f) => frames.push(f));
      for (const n of range(1, 5)) await from.router.deliver(remote.route, frame(n));
      await eventually(() => expect(remote.frames).toEqual(range(1, 5).map(frame)), timeout());
      await settle();
      expect(frames).toEqual([]);
      detachLocal();
      remote.detach();
    });
  });
}

import { describe, expect, it } from 'vitest';
import { GatewayNode } from './gateway-node.js';
import { ChatError } from '../core/errors.js';
import { directConversationId } from '../core/ids.js';
import { presenceEntryOf } from '../services/presence-service.js';
import { connectDevice, createTestWorld, settle } from '../testing/in-process-client.js';

describe('GatewayNode connection ids', () => {
  it('differ between two processes of one node id, so a stale route never names a new connection', () => {
    // Two processes of gateway "gw-1" (a crash and a restart): each draws its own incarnation.
    const before = createTestWorld({ nodeId: 'gw-1', seed: 1 });
    const after = createTestWorld({ nodeId: 'gw-1', seed: 2 });
    const staleRoute = before.node.nextConnectionId();
    const fresh = Array.from({ length: 5 }, () => after.node.nextConnectionId());
    expect(staleRoute).toMatch(/^gw-1-[0-9a-f]{8}-c1$/);
    expect(fresh).not.toContain(staleRoute);
    expect(new Set(fresh).size).toBe(5);
  });

  it('are the same for the same seed (the simulator replays runs from a seed)', () => {
    const a = createTestWorld({ nodeId: 'gw-1', seed: 7 });
    const b = createTestWorld({ nodeId: 'gw-1', seed: 7 });
    expect(a.node.nextConnectionId()).toBe(b.node.nextConnectionId());
    expect(new GatewayNode(a.core, a.router).nextConnectionId()).not.toBe(a.node.nextConnectionId());
  });
});

describe('GatewayNode.reannounceSessions (Redis came back empty)', () => {
  it('puts every open session’s route and presence back at once, instead of at each device’s next heartbeat', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    await connectDevice(world, 'bob', 'phone');
    const { registry, presence } = world.core.deps;
    const [route] = await registry.lookup('alice');
    expect(route).toBeDefined();
    // What a Redis restart does to this node's view of alice.
    await registry.remove({ userId: 'alice', deviceId: 'phone' }, route!.route);
    await presence.markOffline(presenceEntryOf({ userId: 'alice', deviceId: 'phone' }, route!.route));
    expect(await registry.lookup('alice')).toEqual([]);
    expect((await presence.get('alice')).online).toBe(false);

    expect(await world.node.reannounceSessions()).toEqual({ sessions: 2, failed: 0 });
    expect(await registry.lookup('alice')).toEqual([route]);
    expect((await presence.get('alice')).online).toBe(true);
    // Routed live again: a message reaches alice without a heartbeat.
    const bob = await connectDevice(world, 'bob', 'laptop');
    await bob.sendMessage(directConversationId('alice', 'bob'), 'after-restart');
    await settle();
    expect(alice.seqs(directConversationId('alice', 'bob'))).toEqual([1]);
  });

  it('tries again a session whose re-announcement failed (Redis not answering yet), until a heartbeat interval has passed', async () => {
    const world = createTestWorld();
    await connectDevice(world, 'alice', 'phone');
    await connectDevice(world, 'bob', 'phone');
    const { registry, presence } = world.core.deps;
    const [route] = await registry.lookup('alice');
    await registry.remove({ userId: 'alice', deviceId: 'phone' }, route!.route);
    await presence.markOffline(presenceEntryOf({ userId: 'alice', deviceId: 'phone' }, route!.route));
    const put = registry.put.bind(registry);
    let refusals = 2;
    registry.put = (device, r, ttlMs) =>
      device.userId === 'alice' && refusals-- > 0
        ? Promise.reject(new ChatError('STORAGE_UNAVAILABLE', 'redis did not answer'))
        : put(device, r, ttlMs);

    const reannounced = world.node.reannounceSessions();
    await settle();
    expect(await registry.lookup('alice')).toEqual([]);
    await world.clock.advance(500); // the second try fails too
    await settle();
    expect(await registry.lookup('alice')).toEqual([]);
    await world.clock.advance(1_000);
    expect(await reannounced).toEqual({ sessions: 2, failed: 0 });
    expect(await registry.lookup('alice')).toEqual([route]);
    expect((await presence.get('alice')).online).toBe(true);

    // Redis refusing for longer than a heartbeat interval: the heartbeats take over.
    refusals = Infinity;
    const givenUp = world.node.reannounceSessions();
    for (let waited = 0; waited <= 32_000; waited += 500) await world.clock.advance(500);
    expect(await givenUp).toEqual({ sessions: 2, failed: 1 });
  });
});

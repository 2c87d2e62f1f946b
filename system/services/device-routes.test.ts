import { describe, expect, it } from 'vitest';
import { LocalRouter } from '../adapters/memory/local-router.js';
import { MemoryConnectionRegistry } from '../adapters/memory/memory-connection-registry.js';
import { MemoryDirectoryStore } from '../adapters/memory/memory-directory-store.js';
import { RecordingPushSender } from '../adapters/memory/recording-push-sender.js';
import { ManualClock } from '../adapters/virtual/manual-clock.js';
import { deviceKey, directConversationId } from '../core/ids.js';
import { defaultLimits, resolveLimits, type Limits } from '../core/limits.js';
import { chatEvent } from '../ports/contracts/support.js';
import type { Route } from '../ports/connection-registry.js';
import { noopMetrics } from '../ports/metrics.js';
import type { ServerFrame } from '../protocol/frames.js';
import { settle } from '../testing/in-process-client.js';
import { DeviceRoutes } from './device-routes.js';
import { PushNotifier } from './push-notifier.js';

const NODE = 'n1';
const BOB_PHONE = { userId: 'bob', deviceId: 'phone' };
const DM = directConversationId('alice', 'bob');

/** One node: bob's phone linked (with a push token) and connected on `c1`; every registry call counted. */
async function world(limits: Partial<Limits> = {}) {
  const clock = new ManualClock();
  const registry = new MemoryConnectionRegistry(clock);
  const lookups: string[] = [];
  const countedRegistry = {
    put: registry.put.bind(registry),
    remove: registry.remove.bind(registry),
    lookup: (userId: string) => (lookups.push(`lookup ${userId}`), registry.lookup(userId)),
    lookupMany: (userIds: readonly string[]) => (lookups.push(`lookupMany ${userIds.join(',')}`), registry.lookupMany(userIds)),
  };
  const directory = new MemoryDirectoryStore();
  await directory.linkDevice(BOB_PHONE, 0, 5);
  await directory.setPushToken(BOB_PHONE, 'token-bob');
  const router = new LocalRouter(NODE);
  const received = new Map<string, ServerFrame[]>();
  const endpoints = new Map<string, { deliverFrame(frame: ServerFrame): void }>();
  const connect = async (connectionId: string): Promise<Route> => {
    const route = { nodeId: NODE, connectionId };
    const endpoint = { deliverFrame: (frame: ServerFrame) => received.set(connectionId, [...(received.get(connectionId) ?? []), frame]) };
    endpoints.set(connectionId, endpoint);
    router.attach(connectionId, endpoint);
    await registry.put(BOB_PHONE, route, 60_000);
    return route;
  };
  const disconnect = async (route: Route, options: { keepRegistryEntry?: boolean } = {}) => {
    router.detach(route.connectionId, endpoints.get(route.connectionId)!);
    if (!options.keepRegistryEntry) await registry.remove(BOB_PHONE, route);
  };
  const push = new RecordingPushSender();
  const resolved = resolveLimits(limits);
  const notifier = new PushNotifier({ clock, push, directory, metrics: noopMetrics, limits: resolved });
  const routes = new DeviceRoutes({ registry: countedRegistry, router, directory, clock, limits: resolved }, notifier);
  return { clock, routes, lookups, received, connect, disconnect, push, router, registry };
}

function eventFrame(seq: number): ServerFrame {
  return { type: 'event', event: chatEvent(DM, seq) };
}

describe('DeviceRoutes', () => {
  it('answers a connected device from memory within routeCacheTtlMs, and asks the registry again after it', async () => {
    const { routes, lookups, connect, clock } = await world();
    const route = await connect('c1');
    expect((await routes.resolve([BOB_PHONE])).get(deviceKey(BOB_PHONE))).toEqual(route);
    expect((await routes.resolve([BOB_PHONE])).get(deviceKey(BOB_PHONE))).toEqual(route);
    await clock.advance(defaultLimits.routeCacheTtlMs - 1);
    await routes.resolve([BOB_PHONE]);
    expect(lookups).toEqual(['lookupMany bob']);
    await clock.advance(1);
    await routes.resolve([BOB_PHONE]);
    expect(lookups).toEqual(['lookupMany bob', 'lookupMany bob']);
    expect(routes.stats).toMatchObject({ cached: 2, lookedUp: 2 });
  });

  it('never remembers a device as offline: it is found the moment it connects', async () => {
    const { routes, lookups, connect } = await world();
    expect((await routes.resolve([BOB_PHONE])).size).toBe(0);
    expect((await routes.resolve([BOB_PHONE])).size).toBe(0);
    const route = await connect('c1');
    expect((await routes.resolve([BOB_PHONE])).get(deviceKey(BOB_PHONE))).toEqual(route);
    expect(lookups).toEqual(['lookupMany bob', 'lookupMany bob', 'lookupMany bob']);
  });

  it('a frame sent on a kept route after the device reconnected elsewhere is redelivered to the new connection, and the new route kept', async () => {
    const { routes, lookups, connect, disconnect, received } = await world();
    const old = await connect('c1');
    await routes.resolve([BOB_PHONE]);
    await disconnect(old);
    const fresh = await connect('c2');

    const stale = (await routes.resolve([BOB_PHONE])).get(deviceKey(BOB_PHONE))!;
    expect(stale).toEqual(old);
    await routes.deliver(BOB_PHONE, stale, eventFrame(1));
    await settle();
    expect(received.get('c2')).toEqual([eventFrame(1)]);
    expect(received.get('c1')).toBeUndefined();
    expect((await routes.resolve([BOB_PHONE])).get(deviceKey(BOB_PHONE))).toEqual(fresh);
    expect(lookups).toEqual(['lookupMany bob', 'lookup bob']);
    expect(routes.stats.redelivered).toBe(1);
  });

  it('an event that misses a device gone offline is announced by push; other frames are dropped (the inbox has the event)', async () => {
    const { routes, connect, disconnect, push } = await world();
    const old = await connect('c1');
    await routes.resolve([BOB_PHONE]);
    await disconnect(old);
    await routes.deliver(BOB_PHONE, old, {
      type: 'receipt',
      conversationId: DM,
      state: 'delivered',
      upToSeq: 1,
      userId: 'alice',
      deviceId: 'phone',
    });
    await settle();
    expect(push.sent).toEqual([]);
    await routes.deliver(BOB_PHONE, old, eventFrame(2));
    await settle();
    expect(push.sent).toEqual([expect.objectContaining({ token: 'token-bob' })]);
    // The missed route is forgotten: the next resolve asks the registry, which knows no connection.
    expect((await routes.resolve([BOB_PHONE])).size).toBe(0);
  });

  it("a registry entry still naming the missed route (the gone connection's, not yet removed) counts as offline", async () => {
    const { routes, connect, disconnect, push, received } = await world();
    const old = await connect('c1');
    await routes.resolve([BOB_PHONE]);
    await disconnect(old, { keepRegistryEntry: true });
    await routes.deliver(BOB_PHONE, old, eventFrame(3));
    await settle();
    expect(received.get('c1')).toBeUndefined();
    expect(push.sent).toHaveLength(1);
  });

  it('a frame that does not name its device is not chased (the redelivery itself sends so, and so stops after one try)', async () => {
    const { routes, connect, disconnect, router, lookups } = await world();
    const old = await connect('c1');
    await disconnect(old);
    await router.deliver(old, eventFrame(4));
    await settle();
    expect(lookups).toEqual([]);
    expect(routes.stats.redelivered).toBe(0);
  });

  it('keeps at most routeCacheEntriesMax routes, dropping the least recently filled', async () => {
    const { routes, lookups, registry, clock } = await world({ routeCacheEntriesMax: 2 });
    const users = ['u1', 'u2', 'u3'].map((userId) => ({ userId, deviceId: 'd' }));
    for (const [i, device] of users.entries()) await registry.put(device, { nodeId: NODE, connectionId: `c-${i}` }, 60_000);
    for (const device of users) await routes.resolve([device]);
    lookups.length = 0;
    await clock.advance(1);
    await routes.resolve([users[2]!, users[1]!]);
    expect(lookups).toEqual([]);
    await routes.resolve([users[0]!]);
    expect(lookups).toEqual(['lookupMany u1']);
  });
});

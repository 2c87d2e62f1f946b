/**
 * The port contract suites against the Redis adapters on a real Redis (`npm run services -- up
 * redis`), with short real TTLs so the time-based suites run in real time; plus what only a
 * multi-node deployment shows: frames crossing nodes in order, presence expiry heard on another
 * node, the group cache shared between nodes, and failures mapped to STORAGE_UNAVAILABLE.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureServices } from '../../../infra/local/services-api.js';
import { ChatError } from '../../core/errors.js';
import type { PresenceState } from '../../ports/presence-store.js';
import type { ConversationStore, GroupRecord } from '../../ports/conversation-store.js';
import {
  connectionRegistryContract,
  conversationStoreContract,
  presenceStoreContract,
  routerContract,
  type RouterNode,
} from '../../ports/contracts/index.js';
import { eventually, range, uniqueGroupId, uniqueHex, uniqueUserId } from '../../ports/contracts/support.js';
import type { Logger } from '../../ports/logger.js';
import type { ServerFrame } from '../../protocol/frames.js';
import { LocalRouter } from '../memory/local-router.js';
import { MemoryConversationStore } from '../memory/memory-conversation-store.js';
import { createRedisAdapters, type RedisAdapters, type RedisAdaptersOptions } from './redis-adapters.js';
import { createRedisClient, LuaScript, RedisKeys, type Redis } from './redis-client.js';
import { RedisConnectionRegistry } from './redis-connection-registry.js';

/** Keys and channels of this run never meet those of other runs or deployments. */
const PREFIX = `test:${randomBytes(4).toString('hex')}:`;
const TTL_MS = 400;

let urlPromise: Promise<string> | undefined;
const redisUrl = () => (urlPromise ??= ensureServices(['redis']).then((env) => env.REDIS_URL));

/** Warnings are collected rather than printed (the fallback suite provokes none, but a failure might). */
const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
const testLogger: Logger = {
  info() {},
  warn: (message, fields) => warnings.push({ message, ...(fields && { fields }) }),
  error: (message, fields) => warnings.push({ message, ...(fields && { fields }) }),
};

async function node(nodeId = `node-${uniqueHex()}`, extra: Partial<RedisAdaptersOptions> = {}): Promise<RedisAdapters> {
  return createRedisAdapters({
    url: await redisUrl(),
    nodeId,
    localRouter: new LocalRouter(nodeId),
    keyPrefix: PREFIX,
    logger: testLogger,
    // A Redis the run has just started would hold "offline" back for its first 30 s, as after a
    // restart (docs/redis.md); only the test of that hold asks for it.
    presenceRecoveryHoldMs: 0,
    ...extra,
  });
}

beforeAll(async () => {
  await redisUrl();
});

afterAll(async () => {
  // The only warnings expected are the unreachable-Redis tests' connection errors.
  expect(warnings.filter((w) => w.message !== 'redis connection error')).toEqual([]);
  // Leave the shared Redis as we found it: drop this run's keys (most would expire anyway).
  const redis = createRedisClient(await redisUrl());
  try {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) await redis.del(...found);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
});

// ---------- the port contracts ----------

connectionRegistryContract('RedisConnectionRegistry (real Redis, real time)', async () => {
  const adapters = await node();
  return { registry: adapters.registry, advance: (ms) => sleep(ms), ttlMs: TTL_MS, cleanup: adapters.close };
});

presenceStoreContract('RedisPresenceStore (keyspace notifications)', async () => {
  const adapters = await node();
  expect(adapters.keyspaceNotifications).toBe(true);
  return { store: adapters.presence, advance: (ms) => sleep(ms), nowMs: () => Date.now(), ttlMs: TTL_MS, cleanup: adapters.close };
});

presenceStoreContract('RedisPresenceStore (polling fallback, no keyspace notifications)', async () => {
  const adapters = await node(undefined, { keyspaceNotifications: false, presencePollMs: 50 });
  expect(adapters.keyspaceNotifications).toBe(false);
  return { store: adapters.presence, advance: (ms) => sleep(ms), nowMs: () => Date.now(), ttlMs: TTL_MS, cleanup: adapters.close };
});

function routerNode(adapters: RedisAdapters): RouterNode {
  const local = adapters.router.local;
  return {
    nodeId: adapters.router.nodeId,
    router: adapters.router,
    attach(connectionId, onFrame) {
      const endpoint = { deliverFrame: onFrame };
      local.attach(connectionId, endpoint);
      return () => local.detach(connectionId, endpoint);
    },
  };
}

routerContract('RedisRouter (two nodes)', async () => {
  const [a, b] = await Promise.all([node(), node()]);
  return {
    nodes: [routerNode(a), routerNode(b)],
    settle: () => sleep(50),
    cleanup: async () => {
      await Promise.all([a.close(), b.close()]);
    },
  };
});

routerContract('RedisRouter (reversed: sending from the second node)', async () => {
  const [a, b] = await Promise.all([node(), node()]);
  return {
    nodes: [routerNode(b), routerNode(a)],
    settle: () => sleep(50),
    cleanup: async () => {
      await Promise.all([a.close(), b.close()]);
    },
  };
});

conversationStoreContract('CachedConversationStore (Redis) over MemoryConversationStore', async () => {
  const adapters = await node();
  return { store: adapters.cacheConversations(new MemoryConversationStore(), 60_000), cleanup: adapters.close };
});

// ---------- several nodes ----------

describe('Redis adapters across nodes', () => {
  let a: RedisAdapters;
  let b: RedisAdapters;

  beforeAll(async () => {
    [a, b] = await Promise.all([node('node-a-' + uniqueHex()), node('node-b-' + uniqueHex())]);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('200 frames routed from node A reach the connection on node B, in order, once', async () => {
    const received: ServerFrame[] = [];
    const connectionId = `conn-${uniqueHex()}`;
    const endpoint = { deliverFrame: (f: ServerFrame) => received.push(f) };
    b.router.local.attach(connectionId, endpoint);
    const frames = range(1, 200).map((n): ServerFrame => ({ type: 'heartbeat_ack', serverTimeMs: n }));
    // As the fan-out does: each deliver awaited before the next.
    for (const frame of frames) await a.router.deliver({ nodeId: b.router.nodeId, connectionId }, frame);
    await eventually(() => expect(received).toHaveLength(200), 5000);
    expect(received).toEqual(frames);
    await sleep(50);
    expect(received).toHaveLength(200);
    b.router.local.detach(connectionId, endpoint);
  });

  it('frames fired without awaiting each deliver still arrive in call order', async () => {
    const received: number[] = [];
    const connectionId = `conn-${uniqueHex()}`;
    const endpoint = { deliverFrame: (f: ServerFrame) => received.push(f.type === 'heartbeat_ack' ? f.serverTimeMs : -1) };
    b.router.local.attach(connectionId, endpoint);
    await Promise.all(
      range(1, 200).map((n) => a.router.deliver({ nodeId: b.router.nodeId, connectionId }, { type: 'heartbeat_ack', serverTimeMs: n })),
    );
    await eventually(() => expect(received).toEqual(range(1, 200)), 5000);
    b.router.local.detach(connectionId, endpoint);
  });

  it('a registry entry put on one node is looked up on the other, and routes there', async () => {
    const device = { userId: uniqueUserId(), deviceId: 'phone' };
    const connectionId = `conn-${uniqueHex()}`;
    const received: ServerFrame[] = [];
    const endpoint = { deliverFrame: (f: ServerFrame) => received.push(f) };
    b.router.local.attach(connectionId, endpoint);
    await b.registry.put(device, { nodeId: b.router.nodeId, connectionId }, 5000);
    const [entry] = await a.registry.lookup(device.userId);
    expect(entry).toEqual({ deviceId: 'phone', route: { nodeId: b.router.nodeId, connectionId } });
    await a.router.deliver(entry!.route, { type: 'heartbeat_ack', serverTimeMs: 7 });
    await eventually(() => expect(received).toEqual([{ type: 'heartbeat_ack', serverTimeMs: 7 }]), 2000);
    b.router.local.detach(connectionId, endpoint);
  });

  it('a device whose heartbeats stop turns offline by TTL, and a watcher on another node hears it', async () => {
    const device = { userId: uniqueUserId(), deviceId: 'phone' };
    const heard: PresenceState[] = [];
    const unsubscribe = b.presence.watch(device.userId, (s) => heard.push(s));
    await sleep(50);
    const before = Date.now();
    await a.presence.markOnline(device, TTL_MS); // node A's gateway then "crashes": no heartbeat, no markOffline
    const after = Date.now();
    await eventually(() => expect(heard.map((s) => s.online)).toEqual([true]), 2000);
    const wentOnline = Date.now();
    await eventually(() => expect(heard.map((s) => s.online)).toEqual([true, false]), 2000);
    const wentOffline = Date.now();
    // Heard by keyspace notification, not by the 10 s safety poll.
    expect(wentOffline - wentOnline).toBeLessThan(TTL_MS + 500);
    expect(heard[1]!.lastSeenMs).toBeGreaterThanOrEqual(before);
    expect(heard[1]!.lastSeenMs).toBeLessThanOrEqual(after);
    expect(await b.presence.get(device.userId)).toMatchObject({ online: false });
    unsubscribe();
    expect(b.presence.watchedUserCount).toBe(0);
  });

  it('a node that starts within the recovery hold of Redis starting tells "online" at once and holds "offline" back', async () => {
    // A hold longer than any Redis uptime: to this node Redis has just (re)started.
    const late = await node(undefined, { presenceRecoveryHoldMs: 10 * 365 * 24 * 3600 * 1000 });
    try {
      const device = { userId: uniqueUserId(), deviceId: 'phone' };
      expect(late.presence.offlineUnsureUntilMs()).toBeGreaterThan(Date.now());
      const heard: boolean[] = [];
      const unsubscribe = late.presence.watch(device.userId, (s) => heard.push(s.online));
      await sleep(50);
      await a.presence.markOnline(device, TTL_MS);
      await eventually(() => expect(heard).toEqual([true]), 2000);
      await a.presence.markOffline(device);
      await sleep(TTL_MS);
      expect(heard).toEqual([true]);
      expect(await late.presence.get(device.userId)).toMatchObject({ online: false });
      unsubscribe();
    } finally {
      await late.close();
    }
  });

  it('presence changes made on one node are heard by watchers on both nodes, once each', async () => {
    const userId = uniqueUserId();
    const onA: boolean[] = [];
    const onB: boolean[] = [];
    const stopA = a.presence.watch(userId, (s) => onA.push(s.online));
    const stopB = b.presence.watch(userId, (s) => onB.push(s.online));
    await sleep(50);
    await a.presence.markOnline({ userId, deviceId: 'phone' }, 5000);
    await b.presence.markOnline({ userId, deviceId: 'laptop' }, 5000);
    await a.presence.markOffline({ userId, deviceId: 'phone' });
    await b.presence.markOffline({ userId, deviceId: 'laptop' });
    await eventually(
      () =>
        expect([onA, onB]).toEqual([
          [true, false],
          [true, false],
        ]),
      2000,
    );
    await sleep(100);
    expect([onA, onB]).toEqual([
      [true, false],
      [true, false],
    ]);
    stopA();
    stopB();
  });

  it('a membership change made through one node is seen by the other node’s cached reads at once', async () => {
    const shared = new MemoryConversationStore(); // stands in for the shared database
    const viaA = a.cacheConversations(shared, 60_000);
    const viaB = b.cacheConversations(shared, 60_000);
    const [alice, bob] = [uniqueUserId('alice'), uniqueUserId('bob')];
    const record: GroupRecord = {
      conversationId: uniqueGroupId(),
      name: 'team',
      createdBy: alice,
      createdAtMs: 1,
      spans: [
        { userId: alice, role: 'admin', fromSeq: 1 },
        { userId: bob, role: 'member', fromSeq: 1 },
      ],
    };
    await viaA.createGroup(record);
    expect((await viaB.getGroup(record.conversationId))?.spans).toHaveLength(2); // now cached
    await viaA.endMembership(record.conversationId, bob, 5);
    expect((await viaB.getGroup(record.conversationId))?.spans.find((s) => s.userId === bob)?.toSeq).toBe(5);
  });
});

// ---------- the group cache itself ----------

describe('CachedConversationStore', () => {
  let adapters: RedisAdapters;

  beforeAll(async () => {
    adapters = await node();
  });

  afterAll(async () => {
    await adapters?.close();
  });

  /** A store that counts getGroup calls and can be changed behind the cache's back. */
  function countingStore() {
    const inner = new MemoryConversationStore();
    let reads = 0;
    const store: ConversationStore = Object.assign(Object.create(inner) as ConversationStore, {
      getGroup: (id: string) => {
        reads++;
        return inner.getGroup(id);
      },
    });
    return { inner, store, reads: () => reads };
  }

  function group(): GroupRecord {
    const alice = uniqueUserId('alice');
    return {
      conversationId: uniqueGroupId(),
      name: 'g',
      createdBy: alice,
      createdAtMs: 1,
      spans: [{ userId: alice, role: 'admin', fromSeq: 1 }],
    };
  }

  it('serves repeated reads from Redis, and reads the store again after a mutation', async () => {
    const { store, reads } = countingStore();
    const cached = adapters.cacheConversations(store, 60_000);
    const record = group();
    await cached.createGroup(record);
    await cached.getGroup(record.conversationId);
    await cached.getGroup(record.conversationId);
    await cached.getGroup(record.conversationId);
    expect(reads()).toBe(1);
    await cached.addMembers(record.conversationId, [uniqueUserId()], 2);
    expect((await cached.getGroup(record.conversationId))?.spans).toHaveLength(2);
    expect(reads()).toBe(2);
  });

  it('the TTL bounds staleness after a write that bypassed the cache', async () => {
    const { inner, store } = countingStore();
    const cached = adapters.cacheConversations(store, 300);
    const record = group();
    await cached.createGroup(record);
    await cached.getGroup(record.conversationId);
    await inner.addMembers(record.conversationId, [uniqueUserId()], 2); // behind the cache's back
    expect((await cached.getGroup(record.conversationId))?.spans).toHaveLength(1);
    await sleep(450);
    expect((await cached.getGroup(record.conversationId))?.spans).toHaveLength(2);
  });

  it('a read that started before a mutation does not put the old record back', async () => {
    const inner = new MemoryConversationStore();
    const record = group();
    await inner.createGroup(record);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let slow = true;
    const store: ConversationStore = Object.assign(Object.create(inner) as ConversationStore, {
      getGroup: async (id: string) => {
        const snapshot = structuredClone(await inner.getGroup(id));
        if (slow) {
          slow = false;
          await gate; // the mutation happens while this read is in flight
        }
        return snapshot;
      },
    });
    const cached = adapters.cacheConversations(store, 60_000);
    const staleRead = cached.getGroup(record.conversationId);
    await sleep(20);
    await cached.addMembers(record.conversationId, [uniqueUserId()], 2);
    release();
    expect((await staleRead)?.spans).toHaveLength(1); // that caller saw the old state…
    expect((await cached.getGroup(record.conversationId))?.spans).toHaveLength(2); // …but nobody after it
  });

  it('unknown groups are not cached', async () => {
    const { store, reads } = countingStore();
    const cached = adapters.cacheConversations(store, 60_000);
    const id = uniqueGroupId();
    expect(await cached.getGroup(id)).toBeUndefined();
    expect(await cached.getGroup(id)).toBeUndefined();
    expect(reads()).toBe(2);
  });
});

// ---------- failures and lifecycle ----------

describe('Redis adapters: failures and lifecycle', () => {
  let silentServer: Server | undefined;
  const sockets = new Set<Socket>();

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => (silentServer ? silentServer.close(() => resolve()) : resolve()));
  });

  async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it('a Redis that refuses connections: commands fail with STORAGE_UNAVAILABLE, quickly', async () => {
    const redis = createRedisClient(`redis://127.0.0.1:${await freePort()}`, { commandTimeoutMs: 1000 });
    redis.on('error', () => undefined);
    try {
      const registry = new RedisConnectionRegistry(redis, new RedisKeys(PREFIX));
      const started = Date.now();
      const error = await registry.lookup('someone').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChatError);
      expect((error as ChatError).code).toBe('STORAGE_UNAVAILABLE');
      expect((error as ChatError).retryable).toBe(true);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      redis.disconnect();
    }
  });

  it('a Redis that refuses connections: a pipelined lookupMany fails with STORAGE_UNAVAILABLE, quickly', async () => {
    const redis = createRedisClient(`redis://127.0.0.1:${await freePort()}`, { commandTimeoutMs: 1000 });
    redis.on('error', () => undefined);
    try {
      const registry = new RedisConnectionRegistry(redis, new RedisKeys(PREFIX));
      const started = Date.now();
      const error = await registry.lookupMany(['someone', 'someone-else']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChatError);
      expect((error as ChatError).code).toBe('STORAGE_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      redis.disconnect();
    }
  });

  it('a Redis that accepts but never answers: the command timeout turns into STORAGE_UNAVAILABLE', async () => {
    silentServer = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', () => undefined); // swallow everything, answer nothing
    });
    await new Promise<void>((resolve) => silentServer!.listen(0, '127.0.0.1', resolve));
    const port = (silentServer.address() as { port: number }).port;
    const redis = createRedisClient(`redis://127.0.0.1:${port}`, { commandTimeoutMs: 300, connectTimeoutMs: 300 });
    redis.on('error', () => undefined);
    try {
      const registry = new RedisConnectionRegistry(redis, new RedisKeys(PREFIX));
      const started = Date.now();
      const error = await registry.put({ userId: 'u', deviceId: 'd' }, { nodeId: 'n', connectionId: 'c' }, 1000).catch((e: unknown) => e);
      expect((error as ChatError).code).toBe('STORAGE_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      redis.disconnect();
    }
  });

  it('createRedisAdapters fails with STORAGE_UNAVAILABLE when Redis is unreachable, leaving nothing open', async () => {
    const before = openHandles();
    const nodeId = `node-${uniqueHex()}`;
    const started = Date.now();
    const error = await createRedisAdapters({
      url: `redis://127.0.0.1:${await freePort()}`,
      nodeId,
      localRouter: new LocalRouter(nodeId),
      keyPrefix: PREFIX,
      logger: testLogger,
      startupTimeoutMs: 500,
    }).catch((e: unknown) => e);
    expect((error as ChatError).code).toBe('STORAGE_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(1500);
    await eventually(() => expectNoMoreHandlesThan(before), 2000);
  });

  it('close() leaves no open sockets or timers behind, and is idempotent', async () => {
    const before = openHandles();
    const adapters = await node();
    const stop = adapters.presence.watch(uniqueUserId(), () => undefined);
    await adapters.presence.markOnline({ userId: uniqueUserId(), deviceId: 'phone' }, 1000);
    await adapters.registry.put({ userId: uniqueUserId(), deviceId: 'phone' }, { nodeId: 'n', connectionId: 'c' }, 1000);
    await adapters.router.deliver({ nodeId: 'elsewhere', connectionId: 'c' }, { type: 'heartbeat_ack', serverTimeMs: 1 });
    expect(openHandles().sockets).toBeGreaterThan(before.sockets);
    stop();
    await adapters.close();
    await adapters.close();
    expect(adapters.redis.status).toBe('end');
    await eventually(() => expectNoMoreHandlesThan(before), 2000);
  });

  it('after close(), calls fail with STORAGE_UNAVAILABLE instead of hanging', async () => {
    const adapters = await node();
    await adapters.close();
    const error = await adapters.registry.lookup(uniqueUserId()).catch((e: unknown) => e);
    expect((error as ChatError).code).toBe('STORAGE_UNAVAILABLE');
    const batchError = await adapters.registry.lookupMany([uniqueUserId(), uniqueUserId()]).catch((e: unknown) => e);
    expect((batchError as ChatError).code).toBe('STORAGE_UNAVAILABLE');
  });
});

describe('LuaScript.runMany (one pipeline of script runs)', () => {
  let redis: Redis;

  beforeAll(async () => {
    redis = createRedisClient(await redisUrl());
  });

  afterAll(async () => {
    await redis.quit();
  });

  /** A script no server has seen yet (its SHA is new), so the first EVALSHA answers NOSCRIPT. */
  const freshScript = (body: string) => new LuaScript(`test-${uniqueHex()}`, `-- ${uniqueHex()}\n${body}`);

  it('answers each run’s reply in call order, sending a script the server does not know again with EVAL', async () => {
    const echo = freshScript('return {KEYS[1], ARGV[1]}');
    const calls = range(1, 5).map((i) => ({ keys: [`${PREFIX}k${i}`], args: [`v${i}`] }));
    const expected = range(1, 5).map((i) => [`${PREFIX}k${i}`, `v${i}`]);
    expect(await echo.runMany(redis, calls)).toEqual(expected);
    // Loaded by the EVAL fallback: now EVALSHA finds it.
    expect(await echo.runMany(redis, calls)).toEqual(expected);
    expect(await echo.runMany(redis, [])).toEqual([]);
  });

  it('a failing run fails the batch with its own error', async () => {
    const picky = freshScript(`if ARGV[1] == 'bad' then return redis.error_reply('refused ' .. ARGV[1]) end return ARGV[1]`);
    const error = await picky
      .runMany(redis, [
        { keys: [], args: ['good'] },
        { keys: [], args: ['bad'] },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('refused bad');
  });
});

function expectNoMoreHandlesThan(before: { sockets: number; timers: number }): void {
  const now = openHandles();
  expect(now.sockets).toBeLessThanOrEqual(before.sockets);
  expect(now.timers).toBeLessThanOrEqual(before.timers);
}

/** Sockets and timers this process holds (what would keep it alive). */
function openHandles(): { sockets: number; timers: number } {
  const resources = process.getActiveResourcesInfo();
  return {
    sockets: resources.filter((r) => r === 'TCPSocketWrap' || r === 'TCPWRAP').length,
    timers: resources.filter((r) => r === 'Timeout').length,
  };
}

/**
 * The per-process device-list cache (CachedDirectoryStore) on a real Redis: the DirectoryStore
 * contract through the decorator, and two "nodes" (two createRedisAdapters with their own
 * connections and the same key prefix) caching over one shared MemoryDirectoryStore, the way
 * gateway processes share Cassandra.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureServices } from '../../../infra/local/services-api.js';
import { ChatError } from '../../core/errors.js';
import type { DeviceAddress, UserId } from '../../core/ids.js';
import { directoryStoreContract } from '../../ports/contracts/index.js';
import { eventually, uniqueHex, uniqueUserId } from '../../ports/contracts/support.js';
import type { DeviceRecord, DirectoryStore, LinkOutcome } from '../../ports/directory-store.js';
import type { Logger } from '../../ports/logger.js';
import type { ServerFrame } from '../../protocol/frames.js';
import { LocalRouter } from '../memory/local-router.js';
import { MemoryDirectoryStore } from '../memory/memory-directory-store.js';
import { CachedDirectoryStore } from './cached-directory-store.js';
import { createRedisAdapters, type RedisAdapters } from './redis-adapters.js';
import { createRedisClient, createSubscriberClient, RedisKeys, type Redis } from './redis-client.js';
import { SubscriberHub } from './subscriber-hub.js';

const PREFIX = `test:${randomBytes(4).toString('hex')}:`;
const T = 1_700_000_000_000;

let urlPromise: Promise<string> | undefined;
const redisUrl = () => (urlPromise ??= ensureServices(['redis']).then((env) => env.REDIS_URL));

const warnings: string[] = [];
const testLogger: Logger = {
  info() {},
  warn: (message) => warnings.push(message),
  error: (message) => warnings.push(message),
};

const opened: RedisAdapters[] = [];
async function node(label: string): Promise<RedisAdapters> {
  const nodeId = `${label}-${uniqueHex()}`;
  const adapters = await createRedisAdapters({
    url: await redisUrl(),
    nodeId,
    localRouter: new LocalRouter(nodeId),
    keyPrefix: PREFIX,
    logger: testLogger,
  });
  opened.push(adapters);
  return adapters;
}

beforeAll(async () => {
  await redisUrl();
});

afterAll(async () => {
  await Promise.all(opened.map((adapters) => adapters.close()));
  // The only warnings expected: publishes the failure test makes fail, and connection errors.
  expect(warnings.filter((w) => !['device-list invalidation not published; retrying', 'redis connection error'].includes(w))).toEqual([]);
});

/**
 * The inner store one node sees: the shared store, counting the users read through it. `hold()`
 * makes the next listDevicesMany read the store at once and answer only when released (a slow
 * Cassandra read: its result is already old when it arrives).
 */
class NodeView implements DirectoryStore {
  usersRead = 0;
  reads = 0;
  private held: { release: () => void; gate: Promise<void>; started: () => void } | undefined;

  constructor(private readonly shared: DirectoryStore) {}

  hold(): { release: () => void; started: Promise<void> } {
    let release!: () => void;
    let started!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const startedPromise = new Promise<void>((resolve) => (started = resolve));
    this.held = { release, gate, started };
    return { release, started: startedPromise };
  }

  async listDevicesMany(userIds: readonly UserId[]): Promise<Map<UserId, DeviceRecord[]>> {
    this.reads++;
    this.usersRead += userIds.length;
    const found = await this.shared.listDevicesMany(userIds);
    const held = this.held;
    this.held = undefined;
    if (held) {
      held.started();
      await held.gate;
    }
    return found;
  }
  listDevices(userId: UserId): Promise<DeviceRecord[]> {
    return this.shared.listDevices(userId);
  }
  /** The next write waits for `release` before it reaches the store (a slow Cassandra write). */
  holdWrite(): () => void {
    let release!: () => void;
    this.writeGate = new Promise<void>((resolve) => (release = resolve));
    return release;
  }
  private writeGate: Promise<void> | undefined;
  private async beforeWrite(): Promise<void> {
    const gate = this.writeGate;
    this.writeGate = undefined;
    await gate;
  }

  async linkDevice(device: DeviceAddress, atMs: number, max: number): Promise<LinkOutcome> {
    await this.beforeWrite();
    return this.shared.linkDevice(device, atMs, max);
  }
  async unlinkDevice(device: DeviceAddress, atMs: number): Promise<void> {
    await this.beforeWrite();
    return this.shared.unlinkDevice(device, atMs);
  }
  unlinkedAtMs(device: DeviceAddress): Promise<number | undefined> {
    return this.shared.unlinkedAtMs(device);
  }
  getDevice(device: DeviceAddress): Promise<DeviceRecord | undefined> {
    return this.shared.getDevice(device);
  }
  existsAsked = 0;
  userExists(userId: UserId): Promise<boolean> {
    this.existsAsked++;
    return this.shared.userExists(userId);
  }
  async setPushToken(device: DeviceAddress, token: string | undefined): Promise<void> {
    await this.beforeWrite();
    return this.shared.setPushToken(device, token);
  }
}

const ids = (devices: DeviceRecord[]) => devices.map((d) => d.deviceId).sort();

directoryStoreContract('CachedDirectoryStore (Redis pub/sub) over MemoryDirectoryStore', async () => {
  const adapters = await node('contract');
  const store = adapters.cacheDirectory(new MemoryDirectoryStore());
  await store.ready;
  expect(store.stats.live).toBe(true);
  return { store };
});

describe('CachedDirectoryStore on two nodes over one directory', () => {
  let a: RedisAdapters;
  let b: RedisAdapters;
  let shared: MemoryDirectoryStore;
  let viewA: NodeView;
  let viewB: NodeView;
  let cacheA: CachedDirectoryStore;
  let cacheB: CachedDirectoryStore;

  beforeAll(async () => {
    [a, b] = await Promise.all([node('node-a'), node('node-b')]);
    shared = new MemoryDirectoryStore();
    viewA = new NodeView(shared);
    viewB = new NodeView(shared);
    cacheA = a.cacheDirectory(viewA);
    cacheB = b.cacheDirectory(viewB);
    await Promise.all([cacheA.ready, cacheB.ready]);
  });

  /** A user with a phone, its list cached on B. */
  async function cachedOnB(): Promise<UserId> {
    const userId = uniqueUserId();
    expect(await cacheA.linkDevice({ userId, deviceId: 'phone' }, T, 5)).toBe('linked');
    await throughRedisFromAToB(() => undefined); // B has heard of the link: its read below fills
    expect(ids(await cacheB.listDevices(userId))).toEqual(['phone']);
    const reads = viewB.reads;
    expect(ids(await cacheB.listDevices(userId))).toEqual(['phone']);
    expect(viewB.reads).toBe(reads);
    return userId;
  }

  /**
   * Resolves once a frame A routes to a connection on B has arrived there, running `onArrival` in
   * the handler: Redis delivers what one subscriber connection receives in publish order, so
   * anything A published before has been handled by B by then.
   */
  async function throughRedisFromAToB<R>(onArrival: () => R): Promise<R> {
    const connectionId = `conn-${uniqueHex()}`;
    let arrived!: (value: R) => void;
    const result = new Promise<R>((resolve) => (arrived = resolve));
    const endpoint = { deliverFrame: (_frame: ServerFrame) => arrived(onArrival()) };
    b.router.local.attach(connectionId, endpoint);
    try {
      await a.router.deliver({ nodeId: b.router.nodeId, connectionId }, { type: 'heartbeat_ack', serverTimeMs: 1 });
      return await result;
    } finally {
      b.router.local.detach(connectionId, endpoint);
    }
  }

  it('a read fills the cache: two reads, one inner read; a batch reads only the users it misses', async () => {
    const [u1, u2, u3] = [uniqueUserId(), uniqueUserId(), uniqueUserId()];
    await shared.linkDevice({ userId: u1, deviceId: 'phone' }, T, 5);
    await shared.linkDevice({ userId: u2, deviceId: 'laptop' }, T, 5);
    const before = { reads: viewB.reads, users: viewB.usersRead };
    expect(ids(await cacheB.listDevices(u1))).toEqual(['phone']);
    expect(ids(await cacheB.listDevices(u1))).toEqual(['phone']);
    expect(viewB.reads - before.reads).toBe(1);
    const many = await cacheB.listDevicesMany([u2, u1, u3, u2]);
    expect([...many.keys()]).toEqual([u2, u1, u3]);
    expect(ids(many.get(u2)!)).toEqual(['laptop']);
    expect(many.get(u3)).toEqual([]);
    expect({ reads: viewB.reads - before.reads, users: viewB.usersRead - before.users }).toEqual({ reads: 2, users: 3 });
    await cacheB.listDevicesMany([u1, u2, u3]);
    expect(viewB.reads - before.reads).toBe(2);
  });

  it('concurrent reads of a missing user share one inner read', async () => {
    const userId = uniqueUserId();
    await shared.linkDevice({ userId, deviceId: 'phone' }, T, 5);
    const before = viewB.reads;
    const lists = await Promise.all([cacheB.listDevices(userId), cacheB.listDevicesMany([userId]), cacheB.listDevices(userId)]);
    expect(viewB.reads - before).toBe(1);
    expect(ids(lists[0])).toEqual(['phone']);
    expect(ids(lists[1].get(userId)!)).toEqual(['phone']);
    // Each caller has its own copy.
    lists[0][0]!.linkedAtMs = 0;
    expect(lists[2][0]!.linkedAtMs).toBe(T);
  });

  it('a link through A is seen by B once A’s linkDevice resolved: by any read B starts after a later message from A arrives', async () => {
    const userId = await cachedOnB();
    expect(await cacheA.linkDevice({ userId, deviceId: 'laptop' }, T + 1, 5)).toBe('linked');
    // Started synchronously in B's handler of a frame A routed after the link: no waiting.
    const seen = await throughRedisFromAToB(() => cacheB.listDevices(userId));
    expect(ids(await seen)).toEqual(['laptop', 'phone']);
  });

  it('a link through A reaches B within milliseconds, with no message in between', async () => {
    const userId = await cachedOnB();
    await cacheA.linkDevice({ userId, deviceId: 'laptop' }, T + 1, 5);
    await eventually(async () => expect(ids(await cacheB.listDevices(userId))).toEqual(['laptop', 'phone']), 1000);
  });

  it('an unlink and push-token changes through A are seen by B likewise', async () => {
    const userId = await cachedOnB();
    await cacheA.linkDevice({ userId, deviceId: 'laptop' }, T + 1, 5);
    await throughRedisFromAToB(() => undefined);
    expect(ids(await cacheB.listDevices(userId))).toEqual(['laptop', 'phone']);

    await cacheA.setPushToken({ userId, deviceId: 'phone' }, 'token-1');
    const withToken = await throughRedisFromAToB(() => cacheB.listDevicesMany([userId]));
    expect((await withToken).get(userId)!.find((d) => d.deviceId === 'phone')?.pushToken).toBe('token-1');

    await cacheA.setPushToken({ userId, deviceId: 'phone' }, undefined);
    const cleared = await throughRedisFromAToB(() => cacheB.listDevices(userId));
    expect((await cleared).find((d) => d.deviceId === 'phone')).toEqual({ userId, deviceId: 'phone', linkedAtMs: T });

    await cacheA.unlinkDevice({ userId, deviceId: 'laptop' }, T + 2);
    const unlinked = await throughRedisFromAToB(() => cacheB.listDevices(userId));
    expect(ids(await unlinked)).toEqual(['phone']);
  });

  it('a change through B itself is seen by B’s next read at once', async () => {
    const userId = await cachedOnB();
    await cacheB.linkDevice({ userId, deviceId: 'laptop' }, T + 1, 5);
    expect(ids(await cacheB.listDevices(userId))).toEqual(['laptop', 'phone']);
    await cacheB.setPushToken({ userId, deviceId: 'laptop' }, 'token');
    expect((await cacheB.listDevices(userId)).find((d) => d.deviceId === 'laptop')?.pushToken).toBe('token');
  });

  it('a connect of a linked device (already-linked) announces nothing, so other nodes keep their entry', async () => {
    const userId = await cachedOnB();
    const before = { invalidations: cacheB.stats.invalidations, reads: viewB.reads };
    expect(await cacheA.linkDevice({ userId, deviceId: 'phone' }, T + 5, 5)).toBe('already-linked');
    expect(await cacheA.linkDevice({ userId, deviceId: 'tablet' }, T + 5, 1)).toBe('limit-reached');
    await throughRedisFromAToB(() => undefined);
    expect(cacheB.stats.invalidations).toBe(before.invalidations);
    expect(ids(await cacheB.listDevices(userId))).toEqual(['phone']);
    expect(viewB.reads).toBe(before.reads);
  });

  it('a read that began before a change on another node does not fill the cache with the old list', async () => {
    const userId = uniqueUserId();
    await shared.linkDevice({ userId, deviceId: 'phone' }, T, 5);
    const slow = viewB.hold();
    const oldRead = cacheB.listDevices(userId);
    await slow.started; // the inner store has answered [phone]; the answer is on its way
    await cacheA.linkDevice({ userId, deviceId: 'laptop' }, T + 1, 5);
    await throughRedisFromAToB(() => undefined); // B has heard the invalidation
    // A caller arriving now does not join the old read; it reads again and fills the new list.
    const newRead = await cacheB.listDevices(userId);
    expect(ids(newRead)).toEqual(['laptop', 'phone']);
    slow.release();
    expect(ids(await oldRead)).toEqual(['phone']); // concurrent with the link: either answer is right
    const before = viewB.reads;
    expect(ids(await cacheB.listDevices(userId))).toEqual(['laptop', 'phone']);
    expect(viewB.reads).toBe(before); // from the cache, which the old read did not overwrite
  });

  it('a read that began before a change through the same node does not fill either', async () => {
    const userId = uniqueUserId();
    await shared.linkDevice({ userId, deviceId: 'phone' }, T, 5);
    const slow = viewB.hold();
    const oldRead = cacheB.listDevices(userId);
    await slow.started;
    await cacheB.unlinkDevice({ userId, deviceId: 'phone' }, T + 1);
    slow.release();
    expect(ids(await oldRead)).toEqual(['phone']);
    expect(await cacheB.listDevices(userId)).toEqual([]);
  });

  it('a read that began during a write through the same node and filled the old list is dropped when the write returns', async () => {
    const userId = await cachedOnB();
    const release = viewB.holdWrite();
    const unlink = cacheB.unlinkDevice({ userId, deviceId: 'phone' }, T + 1);
    expect(ids(await cacheB.listDevices(userId))).toEqual(['phone']); // read and filled before the write lands
    release();
    await unlink;
    // At once, without waiting for the invalidation to come back over Redis.
    expect(await cacheB.listDevices(userId)).toEqual([]);
  });

  it('userExists is answered from a cached non-empty list, and asks the store otherwise', async () => {
    const userId = await cachedOnB();
    expect(await cacheB.userExists(userId)).toBe(true);
    expect(await cacheB.userExists(uniqueUserId())).toBe(false);
  });

  it('userExists of a user not cached reads the device list once, and the fan-out after it reads nothing', async () => {
    const userId = uniqueUserId();
    await shared.linkDevice({ userId, deviceId: 'phone' }, T, 5);
    const before = { reads: viewB.reads, asked: viewB.existsAsked };
    expect(await cacheB.userExists(userId)).toBe(true);
    expect(ids((await cacheB.listDevicesMany([userId])).get(userId)!)).toEqual(['phone']);
    expect({ reads: viewB.reads - before.reads, asked: viewB.existsAsked - before.asked }).toEqual({ reads: 1, asked: 0 });
    // A user whose devices are all unlinked still exists: the store itself answers.
    await shared.unlinkDevice({ userId, deviceId: 'phone' }, T + 1);
    const former = uniqueUserId();
    await shared.linkDevice({ userId: former, deviceId: 'phone' }, T, 5);
    await shared.unlinkDevice({ userId: former, deviceId: 'phone' }, T + 1);
    expect(await cacheB.userExists(former)).toBe(true);
    expect(viewB.existsAsked - before.asked).toBe(1);
  });
});

describe('CachedDirectoryStore bounds', () => {
  it('entries expire after the TTL (writes that bypass the decorator)', async () => {
    const adapters = await node('ttl');
    const shared = new MemoryDirectoryStore();
    const cache = adapters.cacheDirectory(shared, { ttlMs: 150 });
    await cache.ready;
    const userId = uniqueUserId();
    await shared.linkDevice({ userId, deviceId: 'phone' }, T, 5);
    expect(ids(await cache.listDevices(userId))).toEqual(['phone']);
    await shared.linkDevice({ userId, deviceId: 'laptop' }, T, 5); // behind the cache's back
    expect(ids(await cache.listDevices(userId))).toEqual(['phone']);
    await sleep(200);
    expect(ids(await cache.listDevices(userId))).toEqual(['laptop', 'phone']);
  });

  it('at most usersMax users are kept; the oldest filled goes first', async () => {
    const adapters = await node('bound');
    const view = new NodeView(new MemoryDirectoryStore());
    const cache = adapters.cacheDirectory(view, { usersMax: 2 });
    await cache.ready;
    const [u1, u2, u3] = [uniqueUserId(), uniqueUserId(), uniqueUserId()];
    await cache.listDevicesMany([u1, u2]);
    await cache.listDevices(u3);
    expect(cache.stats.size).toBe(2);
    const before = view.usersRead;
    await cache.listDevicesMany([u2, u3]);
    expect(view.usersRead).toBe(before);
    await cache.listDevices(u1);
    expect(view.usersRead).toBe(before + 1);
  });

  it('losing the subscriber connection empties the cache and bypasses it until the connection is back', async () => {
    const adapters = await node('reconnect');
    const shared = new MemoryDirectoryStore();
    const cache = adapters.cacheDirectory(shared);
    await cache.ready;
    const userId = uniqueUserId();
    await shared.linkDevice({ userId, deviceId: 'phone' }, T, 5);
    expect(ids(await cache.listDevices(userId))).toEqual(['phone']);
    // A change whose invalidation this node never hears (as if published while it was away).
    await shared.linkDevice({ userId, deviceId: 'laptop' }, T, 5);
    expect(ids(await cache.listDevices(userId))).toEqual(['phone']);
    const clears = cache.stats.clears;
    await killConnection(adapters.redis, `${PREFIX}${adapters.router.nodeId}:sub`);
    await eventually(() => expect(cache.stats.clears).toBeGreaterThanOrEqual(clears + 2), 5000); // lost, then back
    await eventually(() => expect(cache.stats.live).toBe(true), 5000);
    expect(ids(await cache.listDevices(userId))).toEqual(['laptop', 'phone']);
    expect(cache.stats.size).toBe(1);
  });
});

describe('CachedDirectoryStore when the publish fails', () => {
  let subscriber: Redis | undefined;
  let hub: SubscriberHub | undefined;
  let failing: CachedDirectoryStore | undefined;

  afterAll(async () => {
    failing?.close();
    hub?.close();
    await subscriber?.quit();
  });

  it('the mutation fails with STORAGE_UNAVAILABLE, the change is announced later, and a retry resolves only once announced', async () => {
    const b = await node('listener');
    const shared = new MemoryDirectoryStore();
    const cacheB = b.cacheDirectory(shared);
    // A node whose PUBLISHes fail while `down` (its command connection cut off from Redis).
    let down = true;
    const publishing = b.redis;
    const redis = {
      publish: (channel: string, message: string) =>
        down ? Promise.reject(new Error('connect ECONNREFUSED')) : publishing.publish(channel, message),
    } as unknown as Redis;
    subscriber = createSubscriberClient(createRedisClient(await redisUrl()));
    await subscriber.connect();
    hub = new SubscriberHub(subscriber, testLogger);
    failing = new CachedDirectoryStore(shared, redis, hub, { channel: new RedisKeys(PREFIX).directoryChanges(), logger: testLogger });
    await Promise.all([cacheB.ready, failing.ready]);

    const userId = uniqueUserId();
    await shared.linkDevice({ userId, deviceId: 'phone' }, T, 5);
    expect(ids(await cacheB.listDevices(userId))).toEqual(['phone']);
    const error = await failing.linkDevice({ userId, deviceId: 'laptop' }, T + 1, 5).catch((e: unknown) => e);
    expect((error as ChatError).code).toBe('STORAGE_UNAVAILABLE');
    expect(ids(await cacheB.listDevices(userId))).toEqual(['phone']); // not told yet
    // The client retries its connect: the device is already linked, and the call still announces the change first.
    const retry = failing.linkDevice({ userId, deviceId: 'laptop' }, T + 2, 5);
    await expect(retry).rejects.toBeInstanceOf(ChatError);
    down = false;
    expect(await failing.linkDevice({ userId, deviceId: 'laptop' }, T + 3, 5)).toBe('already-linked');
    await eventually(async () => expect(ids(await cacheB.listDevices(userId))).toEqual(['laptop', 'phone']), 1000);

    // Announcements owed are also retried in the background (every second).
    down = true;
    const other = uniqueUserId();
    await shared.linkDevice({ userId: other, deviceId: 'phone' }, T, 5);
    expect(ids(await cacheB.listDevices(other))).toEqual(['phone']);
    await expect(failing.setPushToken({ userId: other, deviceId: 'phone' }, 'token')).rejects.toBeInstanceOf(ChatError);
    down = false;
    await eventually(async () => expect((await cacheB.listDevices(other))[0]?.pushToken).toBe('token'), 3000);
  });
});

/** CLIENT KILL of the connection named `name` (ioredis reconnects it). */
async function killConnection(redis: Redis, name: string): Promise<void> {
  const list = (await redis.client('LIST')) as string;
  const line = list.split('\n').find((l) => l.includes(` name=${name} `));
  const id = /\bid=(\d+)/.exec(line ?? '')?.[1];
  if (!id) throw new Error(`no connection named ${name}`);
  await redis.client('KILL', 'ID', id);
}

/**
 * Composition of the Redis adapters for one gateway node: two connections (commands and
 * subscriber), the registry, presence, router, the group-membership cache decorator and the
 * per-process device-list cache decorator.
 *
 *   const redis = await createRedisAdapters({ url, nodeId, localRouter, keyPrefix: 'prod:' });
 *   … deps.registry = redis.registry; deps.presence = redis.presence; deps.router = redis.router;
 *   deps.conversations = redis.cacheConversations(cassandraConversations);
 *   deps.directory = redis.cacheDirectory(cassandraDirectory);
 *   await redis.close();
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ChatError } from '../../core/errors.js';
import type { Clock } from '../../ports/clock.js';
import type { ConversationStore } from '../../ports/conversation-store.js';
import type { DirectoryStore } from '../../ports/directory-store.js';
import type { Logger } from '../../ports/logger.js';
import type { LocalRouter } from '../memory/local-router.js';
import { consoleLogger } from '../node/console-logger.js';
import { systemClock } from '../node/system-clock.js';
import { CachedConversationStore, GROUP_CACHE_SCRIPTS } from './cached-conversation-store.js';
import { CachedDirectoryStore } from './cached-directory-store.js';
import {
  createRedisClient,
  createSubscriberClient,
  logConnectionErrors,
  RedisKeys,
  toStorageError,
  type LuaScript,
  type Redis,
} from './redis-client.js';
import { REGISTRY_SCRIPTS, RedisConnectionRegistry } from './redis-connection-registry.js';
import { PRESENCE_SCRIPTS, RedisPresenceStore } from './redis-presence-store.js';
import { RedisOwnerCalls } from './redis-owner-calls.js';
import { RedisRouter } from './redis-router.js';
import { SubscriberHub } from './subscriber-hub.js';

export interface RedisAdaptersOptions {
  /** redis://[user:password@]host:port[/db] */
  url: string;
  /** This gateway node; must equal localRouter.nodeId. */
  nodeId: string;
  /** The node's in-process router, which the gateway attaches its connections to. */
  localRouter: LocalRouter;
  /** Prepended to every key and channel, so deployments and test runs sharing a Redis don't collide (default 'chat:'). No braces. */
  keyPrefix?: string;
  logger?: Logger;
  /** Timestamps for presence lastSeenMs and the presence poll timer (default: system clock). */
  clock?: Clock;
  /** Longest wait for one command, queued time included (default 2000 ms). */
  commandTimeoutMs?: number;
  /** How long createRedisAdapters keeps trying to reach Redis before failing (default 10000 ms). */
  startupTimeoutMs?: number;
  /**
   * Use keyspace notifications (`expired` events) to notice presence TTL expiry (default true).
   * false, or a server that refuses CONFIG SET, falls back to re-reading watched users every
   * `presencePollMs`.
   */
  keyspaceNotifications?: boolean;
  /** Re-read period for watched users without keyspace notifications (default 1000 ms). */
  presencePollMs?: number;
  /** Re-read period for watched users with keyspace notifications, as a safety net (default 10000 ms). */
  presenceSafetyPollMs?: number;
  /**
   * How long after a Redis restart (Redis's uptime, read when the subscriber reconnects and at
   * start) a watched user found offline is not reported as offline (default 30000 ms: the
   * heartbeat interval, within which every live device puts its presence entry back).
   */
  presenceRecoveryHoldMs?: number;
  /** TTL of presence "last seen" keys; default: kept forever. */
  lastSeenTtlMs?: number;
  /** Default TTL of cached group records (default 60000 ms). */
  groupCacheTtlMs?: number;
  /** Longest wait for another node's answer to a forwarded request (default 5000 ms). */
  ownerCallTimeoutMs?: number;
}

export interface RedisAdapters {
  readonly registry: RedisConnectionRegistry;
  readonly presence: RedisPresenceStore;
  readonly router: RedisRouter;
  /** Requests to the node that owns a conversation, and this node's answers (start() it with the core's handler). */
  readonly ownerCalls: RedisOwnerCalls;
  /** Wraps a ConversationStore with the shared group-membership cache. */
  cacheConversations(inner: ConversationStore, ttlMs?: number): CachedConversationStore;
  /**
   * Wraps a DirectoryStore with a per-process cache of device lists, invalidated on every node
   * over pub/sub (defaults: 60 s TTL, 200 000 users). Closed with the adapters.
   */
  cacheDirectory(inner: DirectoryStore, options?: { ttlMs?: number; usersMax?: number }): CachedDirectoryStore;
  /** Whether presence hears TTL expiry from keyspace notifications (false: polling fallback). */
  readonly keyspaceNotifications: boolean;
  readonly keys: RedisKeys;
  /** The command connection (diagnostics and tests). */
  readonly redis: Redis;
  /**
   * Calls `listener` each time the command connection is ready again after losing Redis (scripts
   * re-loaded first). Redis may have restarted empty: the gateway re-announces its sessions.
   */
  onReconnected(listener: () => void): void;
  /** Unsubscribes, stops timers and closes both connections. Idempotent. */
  close(): Promise<void>;
}

const ALL_SCRIPTS: readonly LuaScript[] = [...REGISTRY_SCRIPTS, ...PRESENCE_SCRIPTS, ...GROUP_CACHE_SCRIPTS];

/**
 * Connects, loads the Lua scripts, enables keyspace notifications (or falls back to polling),
 * and subscribes to this node's router channel. Fails with STORAGE_UNAVAILABLE when Redis cannot
 * be reached within `startupTimeoutMs` (leaving nothing open).
 */
export async function createRedisAdapters(options: RedisAdaptersOptions): Promise<RedisAdapters> {
  const { nodeId, localRouter } = options;
  if (localRouter.nodeId !== nodeId) throw new Error(`nodeId ${nodeId} differs from the local router's ${localRouter.nodeId}`);
  const logger = options.logger ?? consoleLogger('redis');
  const clock = options.clock ?? systemClock;
  const keys = new RedisKeys(options.keyPrefix ?? 'chat:');
  const clientOptions = { connectionName: `${keys.prefix}${nodeId}` };
  const redis = createRedisClient(options.url, {
    ...clientOptions,
    ...(options.commandTimeoutMs !== undefined && { commandTimeoutMs: options.commandTimeoutMs }),
  });
  const subscriber = createSubscriberClient(redis, `${keys.prefix}${nodeId}:sub`);
  logConnectionErrors(redis, logger, 'commands');
  logConnectionErrors(subscriber, logger, 'subscriber');

  const hub = new SubscriberHub(subscriber, logger);
  const presenceOptions = { clock, logger, ...(options.lastSeenTtlMs !== undefined && { lastSeenTtlMs: options.lastSeenTtlMs }) };
  const presence = new RedisPresenceStore(redis, hub, keys, presenceOptions);
  const registry = new RedisConnectionRegistry(redis, keys);
  const router = new RedisRouter(localRouter, redis, hub, keys, logger);
  const ownerCalls = new RedisOwnerCalls(redis, hub, keys, nodeId, logger, options.ownerCallTimeoutMs ?? 5_000);
  const groupCacheTtlMs = options.groupCacheTtlMs ?? 60_000;
  const wantNotifications = options.keyspaceNotifications ?? true;
  const pollMs = options.presencePollMs ?? 1000;
  const safetyPollMs = options.presenceSafetyPollMs ?? 10_000;
  let notifications = false;
  let closed = false;
  const directoryCaches = new Set<CachedDirectoryStore>();

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const cache of directoryCaches) cache.close();
    presence.close();
    router.stop();
    ownerCalls.stop();
    hub.close();
    await Promise.all([quit(redis), quit(subscriber)]);
  };

  /** Run at startup and whenever the command connection is back (a restarted Redis forgets CONFIG SET and scripts). */
  const prepareServer = async (): Promise<void> => {
    await Promise.all(ALL_SCRIPTS.map((script) => script.load(redis)));
    notifications = wantNotifications && (await enableExpiredEvents(redis, logger));
    presence.setPollInterval(notifications ? safetyPollMs : pollMs);
  };

  try {
    const deadline = Date.now() + (options.startupTimeoutMs ?? 10_000);
    await untilReachable(redis, deadline);
    await Promise.all([subscriber.connect(), prepareServer()]);
    const subscribed = [router.start()];
    if (wantNotifications) {
      // Subscribed even if CONFIG SET failed now: a later reconnect may succeed, or an operator may enable them.
      subscribed.push(hub.subscribe(`__keyevent@${redis.options.db ?? 0}__:expired`, (key) => presence.keyExpired(key)).ready);
    }
    await withDeadline(Promise.all(subscribed), deadline, () => 'redis subscribe: no answer');
  } catch (error) {
    await close();
    throw toStorageError(error, 'startup');
  }

  let firstReady = true;
  const reconnectListeners: Array<() => void> = [];
  redis.on('ready', () => {
    if (firstReady) {
      firstReady = false;
      return;
    }
    prepareServer()
      .catch((error: unknown) => logger.warn('redis re-preparation failed', { error: (error as Error).message }))
      .finally(() => {
        for (const listener of reconnectListeners) listener();
      });
  });
  if (redis.status === 'ready') firstReady = false;
  const presenceRecoveryHoldMs = options.presenceRecoveryHoldMs ?? 30_000;
  // Redis's uptime says whether it restarted (and forgot every entry) and how long ago; a blip of
  // the connection to a Redis up for hours holds nothing back. Unknown uptime: assume a restart.
  const holdAfterRestart = (uptimeMs: number | undefined) => Math.max(0, presenceRecoveryHoldMs - (uptimeMs ?? 0));
  hub.onReconnect(() => {
    redisUptimeMs(redis).then(
      (uptimeMs) => presence.storeRecovered(holdAfterRestart(uptimeMs)),
      () => presence.storeRecovered(holdAfterRestart(undefined)),
    );
  });
  // A gateway that starts soon after a Redis restart reads entries not all put back yet.
  const uptimeAtStartMs = await redisUptimeMs(redis).catch(() => undefined);
  if (uptimeAtStartMs !== undefined && uptimeAtStartMs < presenceRecoveryHoldMs) presence.storeRecovered(holdAfterRestart(uptimeAtStartMs));

  return {
    registry,
    presence,
    router,
    ownerCalls,
    keys,
    redis,
    get keyspaceNotifications() {
      return notifications;
    },
    cacheConversations: (inner, ttlMs = groupCacheTtlMs) => new CachedConversationStore(inner, redis, ttlMs, { keys, logger }),
    cacheDirectory: (inner, cacheOptions = {}) => {
      const cache = new CachedDirectoryStore(inner, redis, hub, {
        ...cacheOptions,
        channel: keys.directoryChanges(),
        logger,
        onSubscriberLost: (listener) => {
          subscriber.on('close', listener);
          return () => subscriber.off('close', listener);
        },
      });
      if (closed) cache.close();
      else directoryCaches.add(cache);
      return cache;
    },
    onReconnected: (listener) => reconnectListeners.push(listener),
    close,
  };
}

/**
 * Makes sure `notify-keyspace-events` includes keyevent notifications (E) of expirations (x),
 * keeping whatever flags are already set. Returns false (with a warning) when the server refuses
 * CONFIG (managed Redis often does); the caller then polls.
 */
async function enableExpiredEvents(redis: Redis, logger: Logger): Promise<boolean> {
  try {
    const reply = (await redis.config('GET', 'notify-keyspace-events')) as unknown;
    const current = Array.isArray(reply) ? String(reply[1] ?? '') : '';
    let wanted = current;
    if (!wanted.includes('E')) wanted += 'E';
    if (!wanted.includes('x') && !wanted.includes('A')) wanted += 'x';
    if (wanted !== current) await redis.config('SET', 'notify-keyspace-events', wanted);
    return true;
  } catch (error) {
    logger.warn('cannot enable keyspace notifications (CONFIG SET notify-keyspace-events Ex); presence expiry falls back to polling', {
      error: (error as Error).message,
    });
    return false;
  }
}

/** Pings until Redis answers; fails at the deadline with the last connection error. */
async function untilReachable(redis: Redis, deadline: number): Promise<void> {
  redis.connect().catch(() => undefined); // progress and failures show through ping below
  let lastError = 'no answer';
  const attempts = async (): Promise<void> => {
    for (;;) {
      try {
        await redis.ping();
        return;
      } catch (error) {
        lastError = (error as Error).message;
        if (Date.now() >= deadline) return;
        await sleep(50);
      }
    }
  };
  await withDeadline(attempts(), deadline, () => `redis connect: ${lastError}`);
}

async function withDeadline<T>(promise: Promise<T>, deadline: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ChatError('STORAGE_UNAVAILABLE', `${what()} (startup deadline passed)`)),
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** QUIT (pending replies first), then make sure the socket and any reconnect timer are gone. */
async function quit(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  const ended = new Promise<void>((resolve) => redis.once('end', () => resolve()));
  if (redis.status === 'ready')
    await boundedWait(
      redis.quit().then(
        () => undefined,
        () => undefined,
      ),
      1000,
    );
  // With a socket (connecting or connected), disconnect() ends in 'end' once it has closed;
  // while waiting to reconnect or never connected there is no socket, only a timer it clears.
  const hasSocket = ['connecting', 'connect', 'ready'].includes(redis.status);
  redis.disconnect();
  if (hasSocket) await boundedWait(ended, 1000); // 'end' may already have fired: the listener was set before
}

async function boundedWait(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** How long the Redis server has been up (`INFO server`), or undefined when it does not say. */
async function redisUptimeMs(redis: Redis): Promise<number | undefined> {
  const info = await redis.info('server');
  const match = /uptime_in_seconds:(\d+)/.exec(info);
  return match ? Number(match[1]) * 1000 : undefined;
}

/**
 * Shared plumbing of the Redis adapters: client construction with bounded waits, the mapping of
 * connection failures to STORAGE_UNAVAILABLE, Lua scripts run by SHA, and the key layout.
 * docs/redis.md describes the layout and the failure behaviour.
 */
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { ChatError } from '../../core/errors.js';
import type { Logger } from '../../ports/logger.js';

export type { Redis } from 'ioredis';

export interface RedisClientOptions {
  /** Longest wait for one command's reply, queued time included (default 2000 ms). */
  commandTimeoutMs?: number;
  /** Reconnect attempts a queued command survives before it fails (default 2). */
  maxRetriesPerRequest?: number;
  /** Longest wait for a TCP connect / handshake (default 2000 ms). */
  connectTimeoutMs?: number;
  connectionName?: string;
}

/** Backoff while Redis is away: 50, 100, 200, 400, 800, 1000, 1000, … ms (+ up to 50 ms jitter). */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(50 * 2 ** Math.max(0, attempt - 1), 1000) + Math.floor(Math.random() * 50);
}

/**
 * A command connection. ioredis reconnects by itself; meanwhile commands wait in its offline
 * queue, but never longer than the command timeout or `maxRetriesPerRequest` reconnect attempts,
 * so a caller is not left hanging during a Redis restart.
 */
export function createRedisClient(url: string, options: RedisClientOptions = {}): Redis {
  const redisOptions: RedisOptions = {
    commandTimeout: options.commandTimeoutMs ?? 2000,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 2,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    retryStrategy: reconnectDelayMs,
    enableOfflineQueue: true,
    enableReadyCheck: true,
    lazyConnect: true,
    // Commands issued in one turn of the event loop go out in one write (a group's fan-out looks
    // up 255 registries at once); order on the connection is unchanged.
    enableAutoPipelining: true,
  };
  if (options.connectionName !== undefined) redisOptions.connectionName = options.connectionName;
  return new Redis(url, redisOptions);
}

/**
 * A subscriber connection (ioredis cannot share one with commands): no command timeout and no
 * retry limit, so SUBSCRIBEs issued while Redis is away are sent once it is back; ioredis
 * re-subscribes every channel after a reconnect by itself.
 */
export function createSubscriberClient(commands: Redis, connectionName?: string): Redis {
  const override: Partial<RedisOptions> = {
    commandTimeout: undefined,
    maxRetriesPerRequest: null,
    lazyConnect: true,
    enableAutoPipelining: false,
  };
  if (connectionName !== undefined) override.connectionName = connectionName;
  return commands.duplicate(override);
}

/** Logs a connection's first error after each time it was ready, not every reconnect attempt. */
export function logConnectionErrors(redis: Redis, logger: Logger, role: string): void {
  let quiet = false;
  redis.on('ready', () => {
    if (quiet) logger.info('redis connection back', { role });
    quiet = false;
  });
  redis.on('error', (error: Error) => {
    if (quiet) return;
    quiet = true;
    logger.warn('redis connection error', { role, error: error.message });
  });
}

/** Server errors that say "not now" rather than "wrong request". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|READONLY|CLUSTERDOWN|NOREPLICAS|OOM)\b/;

/**
 * Connection failures, timeouts and transient server states become a retryable
 * ChatError('STORAGE_UNAVAILABLE'); other server errors (a bug in a command or script) stay as
 * they are.
 */
export function toStorageError(error: unknown, what: string): Error {
  if (error instanceof ChatError) return error;
  const err = error instanceof Error ? error : new Error(String(error));
  if (err.name === 'ReplyError' && !TRANSIENT_REPLY.test(err.message)) return err;
  return new ChatError('STORAGE_UNAVAILABLE', `redis ${what}: ${err.message}`);
}

/** Runs `call`, mapping its failure with toStorageError. */
export async function storageCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toStorageError(error, what);
  }
}

/** One run of a script in a pipeline: its KEYS and ARGV. */
export interface ScriptCall {
  keys: readonly string[];
  args: ReadonlyArray<string | number>;
}

type PipelineReply = [error: Error | null, reply: unknown];

/** Queues one command per call on a pipeline, sends it, and answers each command's [error, reply]. */
async function execPipeline(
  redis: Redis,
  calls: ReadonlyArray<ScriptCall>,
  queue: (pipeline: ReturnType<Redis['pipeline']>, call: ScriptCall) => void,
): Promise<PipelineReply[]> {
  const pipeline = redis.pipeline();
  for (const call of calls) queue(pipeline, call);
  const replies = await pipeline.exec();
  if (!replies || replies.length !== calls.length)
    throw new Error(`redis pipeline answered ${replies?.length ?? 'nothing'} of ${calls.length} commands`);
  return replies;
}

/**
 * A Lua script run with EVALSHA, falling back to EVAL when the server does not know it (after a
 * restart). The command is written to the connection synchronously in run(), so scripts keep the
 * order in which they were called (except for that one NOSCRIPT fallback; load() avoids it).
 */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return await redis.eval(this.source, keys.length, ...keys, ...args);
      }
      throw error;
    }
  }

  /**
   * Runs the script once per entry of `calls` in one pipeline (one write, one round trip) and
   * answers the replies in the same order. Fails with the first failed entry's error; entries the
   * server did not know the script for (after a restart) are sent again with EVAL, as in run().
   * On a single Redis only: a cluster would refuse a pipeline whose keys span several slots.
   */
  async runMany(redis: Redis, calls: ReadonlyArray<ScriptCall>): Promise<unknown[]> {
    if (calls.length === 0) return [];
    const replies = await execPipeline(redis, calls, (pipeline, call) =>
      pipeline.evalsha(this.sha, call.keys.length, ...call.keys, ...call.args),
    );
    const unknownScript = replies.flatMap(([error], index) => (error?.message.startsWith('NOSCRIPT') ? [index] : []));
    if (unknownScript.length > 0) {
      const retried = await execPipeline(
        redis,
        unknownScript.map((index) => calls[index]!),
        (pipeline, call) => pipeline.eval(this.source, call.keys.length, ...call.keys, ...call.args),
      );
      unknownScript.forEach((index, i) => (replies[index] = retried[i]!));
    }
    return replies.map(([error, reply]) => {
      if (error) throw error;
      return reply;
    });
  }

  /** Puts the script into the server's cache (at startup and after each reconnect). */
  async load(redis: Redis): Promise<void> {
    await redis.script('LOAD', this.source);
  }
}

/**
 * Key and channel names. Every name starts with the deployment's prefix; the `{…}` parts are
 * literal Redis Cluster hash tags, so all keys of one user (or one conversation) share a slot and
 * the scripts that touch several of them stay on one node.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {
    if (/[{}]/.test(prefix)) throw new Error(`key prefix must not contain braces: ${prefix}`);
  }

  private tag(id: string): string {
    if (id.length === 0 || /[{}]/.test(id)) throw new ChatError('INVALID_FIELD', `id not usable in a Redis key: ${JSON.stringify(id)}`);
    return `{${id}}`;
  }

  // ConnectionRegistry
  registryDevicePrefix(userId: string): string {
    return `${this.prefix}reg:${this.tag(userId)}:`;
  }
  registryDevice(userId: string, deviceId: string): string {
    return `${this.registryDevicePrefix(userId)}${deviceId}`;
  }
  registryIndex(userId: string): string {
    return `${this.prefix}reg:${this.tag(userId)}`;
  }

  // PresenceStore
  presenceDevicePrefix(userId: string): string {
    return `${this.prefix}presence:dev:${this.tag(userId)}:`;
  }
  presenceDevice(userId: string, deviceId: string): string {
    return `${this.presenceDevicePrefix(userId)}${deviceId}`;
  }
  presenceIndex(userId: string): string {
    return `${this.prefix}presence:devs:${this.tag(userId)}`;
  }
  presenceLast(userId: string): string {
    return `${this.prefix}presence:last:${this.tag(userId)}`;
  }
  presenceChannel(userId: string): string {
    return `${this.prefix}presence:chan:${this.tag(userId)}`;
  }
  /** The user whose presence device key this is, or undefined for any other key. */
  userOfPresenceDeviceKey(key: string): string | undefined {
    const head = `${this.prefix}presence:dev:{`;
    if (!key.startsWith(head)) return undefined;
    const end = key.indexOf('}:', head.length);
    return end > head.length ? key.slice(head.length, end) : undefined;
  }

  // Router
  nodeChannel(nodeId: string): string {
    return `${this.prefix}node:${nodeId}`;
  }
  /** Requests to a node as a conversation owner, and its answers to the nodes that asked. */
  ownerChannel(nodeId: string): string {
    return `${this.prefix}owner:${nodeId}`;
  }

  // Group cache
  groupCache(conversationId: string): string {
    return `${this.prefix}conv:group:${this.tag(conversationId)}`;
  }
  groupGeneration(conversationId: string): string {
    return `${this.prefix}conv:gen:${this.tag(conversationId)}`;
  }

  // Device-list cache
  /** Every node's device-list cache listens here; a message is the id of a user whose devices changed. */
  directoryChanges(): string {
    return `${this.prefix}directory:changes`;
  }
}

import type { DeviceAddress, UserId } from '../../core/ids.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import type { PresenceState, PresenceStore, Unsubscribe } from '../../ports/presence-store.js';
import { LuaScript, storageCall, type Redis, type RedisKeys } from './redis-client.js';
import { RereadingPresenceWatches } from '../common/rereading-presence-watches.js';
import type { SubscriberHub } from './subscriber-hub.js';

/** Shared Lua: is any device of the user live? Prunes index members whose key has expired. */
const ANY_LIVE = `
local function anyLive(index, prefix)
  local live = false
  for _, d in ipairs(redis.call('SMEMBERS', index)) do
    if redis.call('EXISTS', prefix .. d) == 1 then live = true else redis.call('SREM', index, d) end
  end
  return live
end
`;

/**
 * KEYS: device key, index, last-seen key. ARGV: deviceId, ttlMs, nowMs, device key prefix,
 * channel, last-seen TTL (0 = keep). Publishes on the user's channel when the user was offline.
 */
const MARK_ONLINE = new LuaScript(
  'presence-online',
  `${ANY_LIVE}
local wasOnline = anyLive(KEYS[2], ARGV[4])
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], '1', 'PX', ttl)
redis.call('SADD', KEYS[2], ARGV[1])
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
if tonumber(ARGV[6]) > 0 then
  redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[6])
else
  redis.call('SET', KEYS[3], ARGV[3])
end
if not wasOnline then redis.call('PUBLISH', ARGV[5], '1') end
return wasOnline and 1 or 0
`,
);

/**
 * KEYS: device key, index, last-seen key. ARGV: deviceId, nowMs, device key prefix, channel,
 * last-seen TTL (0 = keep). A device that is not online changes nothing (not even lastSeenMs).
 */
const MARK_OFFLINE = new LuaScript(
  'presence-offline',
  `${ANY_LIVE}
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('SREM', KEYS[2], ARGV[1])
if tonumber(ARGV[5]) > 0 then
  redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[5])
else
  redis.call('SET', KEYS[3], ARGV[2])
end
if not anyLive(KEYS[2], ARGV[3]) then redis.call('PUBLISH', ARGV[4], '0') end
return 1
`,
);

/** KEYS: index, last-seen key. ARGV: device key prefix. Returns [online 0/1, lastSeenMs or '']. */
const GET = new LuaScript(
  'presence-get',
  `${ANY_LIVE}
local online = anyLive(KEYS[1], ARGV[1])
return { online and 1 or 0, redis.call('GET', KEYS[2]) or '' }
`,
);

export const PRESENCE_SCRIPTS: readonly LuaScript[] = [MARK_ONLINE, MARK_OFFLINE, GET];

export interface RedisPresenceOptions {
  /** Timestamps for lastSeenMs. */
  clock: Clock;
  logger: Logger;
  /** TTL of the `presence:last:{user}` keys; undefined keeps "last seen" forever (like the memory store). */
  lastSeenTtlMs?: number;
}

/**
 * PresenceStore on Redis: one key per online entry (the gateway makes one per connection; PX = the presence TTL), a per-user index
 * set, and `presence:last:{user}` for lastSeenMs. A user is online iff any device key exists.
 *
 * watch(): every signal that the user's flag may have changed makes this node re-read the user's
 * state, and listeners hear it only if the flag differs from what they last heard (so signals may
 * be duplicated, lost to a reconnect, or arrive from several sources without listeners hearing
 * repeats). Signals:
 * - a message on the user's channel, published by markOnline (user was offline) and markOffline
 *   (user now offline) on any node;
 * - the keyspace event `expired` of one of the user's device keys, which Redis emits itself, so
 *   a device whose gateway crashed turns offline within its TTL with no node doing anything;
 * - a periodic re-read of watched users: frequent when keyspace events are unavailable (the
 *   fallback), slow otherwise (a safety net: Redis reclaims expired keys lazily/probabilistically,
 *   so an `expired` event can lag on a big keyspace; a read forces it);
 * - the subscriber connection coming back after a loss.
 */
export class RedisPresenceStore implements PresenceStore {
  private readonly watches: RereadingPresenceWatches;
  private pollTimer: TimerHandle | undefined;
  private pollMs: number | undefined;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly hub: SubscriberHub,
    private readonly keys: RedisKeys,
    private readonly options: RedisPresenceOptions,
  ) {
    this.watches = new RereadingPresenceWatches(
      (userId) => this.get(userId),
      {
        subscribe: (userId, signal) => this.hub.subscribe(this.keys.presenceChannel(userId), signal),
      },
      options.clock,
      options.logger,
    );
  }

  async markOnline(device: DeviceAddress, ttlMs: number): Promise<void> {
    const { userId, deviceId } = device;
    await storageCall('presence markOnline', () =>
      MARK_ONLINE.run(
        this.redis,
        [this.keys.presenceDevice(userId, deviceId), this.keys.presenceIndex(userId), this.keys.presenceLast(userId)],
        [
          deviceId,
          Math.max(1, Math.ceil(ttlMs)),
          this.options.clock.nowMs(),
          this.keys.presenceDevicePrefix(userId),
          this.keys.presenceChannel(userId),
          this.options.lastSeenTtlMs ?? 0,
        ],
      ),
    );
  }

  async markOffline(device: DeviceAddress): Promise<void> {
    const { userId, deviceId } = device;
    await storageCall('presence markOffline', () =>
      MARK_OFFLINE.run(
        this.redis,
        [this.keys.presenceDevice(userId, deviceId), this.keys.presenceIndex(userId), this.keys.presenceLast(userId)],
        [
          deviceId,
          this.options.clock.nowMs(),
          this.keys.presenceDevicePrefix(userId),
          this.keys.presenceChannel(userId),
          this.options.lastSeenTtlMs ?? 0,
        ],
      ),
    );
  }

  async get(userId: UserId): Promise<PresenceState> {
    const reply = await storageCall('presence get', () =>
      GET.run(this.redis, [this.keys.presenceIndex(userId), this.keys.presenceLast(userId)], [this.keys.presenceDevicePrefix(userId)]),
    );
    const [online, last] = Array.isArray(reply) ? (reply as unknown[]) : [];
    const state: PresenceState = { userId, online: Number(online) === 1 };
    const lastSeenMs = typeof last === 'string' && last !== '' ? Number(last) : typeof last === 'number' ? last : undefined;
    if (lastSeenMs !== undefined && Number.isFinite(lastSeenMs)) state.lastSeenMs = lastSeenMs;
    return state;
  }

  watch(userId: UserId, listener: (state: PresenceState) => void): Unsubscribe {
    return this.watches.watch(userId, listener);
  }

  /** Called by the factory for every `expired` keyspace event. */
  keyExpired(key: string): void {
    const userId = this.keys.userOfPresenceDeviceKey(key);
    if (userId !== undefined) this.watches.signal(userId);
  }

  /** Re-reads every watched user (after a reconnect, and on each poll). */
  recheckAll(): void {
    this.watches.recheckAll();
  }

  offlineUnsureUntilMs(): number {
    return this.watches.offlineUnsureUntilMs;
  }

  /** The subscriber is back after losing Redis, which may have restarted empty (RereadingPresenceWatches.storeRecovered). */
  storeRecovered(holdOfflineMs: number): void {
    this.watches.storeRecovered(holdOfflineMs);
  }

  /**
   * Re-reads watched users every `intervalMs` (undefined stops). The factory sets a short period
   * when keyspace notifications are unavailable, a long one otherwise.
   */
  setPollInterval(intervalMs: number | undefined): void {
    if (this.pollMs === intervalMs) return;
    this.pollMs = intervalMs;
    this.pollTimer?.cancel();
    this.pollTimer = undefined;
    if (intervalMs !== undefined && !this.closed) this.schedulePoll(intervalMs);
  }

  get watchedUserCount(): number {
    return this.watches.watchedUserCount;
  }

  close(): void {
    this.closed = true;
    this.pollTimer?.cancel();
    this.pollTimer = undefined;
    this.watches.close();
  }

  private schedulePoll(intervalMs: number): void {
    this.pollTimer = this.options.clock.setTimer(intervalMs, () => {
      if (this.closed || this.pollMs !== intervalMs) return;
      this.recheckAll();
      this.schedulePoll(intervalMs);
    });
  }
}

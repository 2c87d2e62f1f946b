import type { DeviceAddress, UserId } from '../../core/ids.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import type { PresenceState, PresenceStore, Unsubscribe } from '../../ports/presence-store.js';
import { LuaScript, storageCall, type Redis, type RedisKeys } from './redis-client.js';
import type { SubscriberHub, Subscription } from './subscriber-hub.js';

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

type Listener = (state: PresenceState) => void;

/** The watches of one user on this node, and the online flag they last heard. */
interface Watched {
  listeners: Set<{ listener: Listener }>;
  /** The flag listeners last heard (or the baseline read when the watch began). */
  known: boolean | undefined;
  checking: boolean;
  /** A signal arrived while a check was running: check again after it. */
  again: boolean;
  closed: boolean;
  subscription: Subscription;
}

/**
 * PresenceStore on Redis: one key per online device (PX = the presence TTL), a per-user index
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
  private readonly watched = new Map<UserId, Watched>();
  private pollTimer: TimerHandle | undefined;
  private pollMs: number | undefined;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly hub: SubscriberHub,
    private readonly keys: RedisKeys,
    private readonly options: RedisPresenceOptions,
  ) {}

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

  watch(userId: UserId, listener: Listener): Unsubscribe {
    let watched = this.watched.get(userId);
    if (!watched) watched = this.startWatching(userId);
    const entry = { listener };
    const current = watched;
    current.listeners.add(entry);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      current.listeners.delete(entry);
      if (current.listeners.size === 0 && this.watched.get(userId) === current) {
        this.watched.delete(userId);
        current.closed = true;
        current.subscription.release();
      }
    };
  }

  /** Called by the factory for every `expired` keyspace event. */
  keyExpired(key: string): void {
    const userId = this.keys.userOfPresenceDeviceKey(key);
    if (userId === undefined) return;
    const watched = this.watched.get(userId);
    if (watched) this.check(userId, watched);
  }

  /** Re-reads every watched user (after a reconnect, and on each poll). */
  recheckAll(): void {
    for (const [userId, watched] of this.watched) this.check(userId, watched);
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
    return this.watched.size;
  }

  close(): void {
    this.closed = true;
    this.pollTimer?.cancel();
    this.pollTimer = undefined;
    for (const watched of this.watched.values()) {
      watched.closed = true;
      watched.subscription.release();
    }
    this.watched.clear();
  }

  private schedulePoll(intervalMs: number): void {
    this.pollTimer = this.options.clock.setTimer(intervalMs, () => {
      if (this.closed || this.pollMs !== intervalMs) return;
      this.recheckAll();
      this.schedulePoll(intervalMs);
    });
  }

  private startWatching(userId: UserId): Watched {
    const subscription = this.hub.subscribe(this.keys.presenceChannel(userId), () => this.check(userId, watched));
    const watched: Watched = { listeners: new Set(), known: undefined, checking: false, again: false, closed: false, subscription };
    this.watched.set(userId, watched);
    // The baseline read goes out now, on the command connection: anything this process does
    // afterwards (a markOnline right after watch) is ordered after it and will be heard.
    this.check(userId, watched);
    // Changes made elsewhere between the baseline read and the SUBSCRIBE taking effect were
    // published to nobody: read once more when the subscription is in place.
    subscription.ready.then(
      () => this.check(userId, watched),
      () => undefined,
    );
    return watched;
  }

  /** Re-reads the user's state unless a read is running, in which case one more follows it. */
  private check(userId: UserId, watched: Watched): void {
    if (watched.closed || this.closed) return;
    if (watched.checking) {
      watched.again = true;
      return;
    }
    watched.checking = true;
    void this.runChecks(userId, watched);
  }

  private async runChecks(userId: UserId, watched: Watched): Promise<void> {
    try {
      do {
        watched.again = false;
        let state: PresenceState;
        try {
          state = await this.get(userId);
        } catch (error) {
          if (!watched.closed && !this.closed)
            this.options.logger.warn('presence re-read failed', { userId, error: (error as Error).message });
          return; // the next signal, poll or reconnect reads again
        }
        if (watched.closed || this.closed) return;
        if (watched.known === undefined) {
          watched.known = state.online; // the baseline: nothing to tell yet
        } else if (watched.known !== state.online) {
          watched.known = state.online;
          for (const { listener } of [...watched.listeners]) {
            try {
              listener(state);
            } catch (error) {
              this.options.logger.error('presence listener failed', { userId, error: (error as Error).message });
            }
          }
        }
      } while (watched.again);
    } finally {
      watched.checking = false;
    }
  }
}

import type { DeviceAddress, DeviceId, UserId } from '../../core/ids.js';
import type { ConnectionRegistry, Route } from '../../ports/connection-registry.js';
import { LuaScript, storageCall, type Redis, type RedisKeys, type ScriptCall } from './redis-client.js';

/**
 * KEYS: device key, user index. ARGV: deviceId, route JSON, ttlMs.
 * The index lives at least as long as its longest-lived device key.
 */
const PUT = new LuaScript(
  'registry-put',
  `
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
local ttl = tonumber(ARGV[3])
local left = redis.call('PTTL', KEYS[2])
if left < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
`,
);

/**
 * Compare-and-delete. KEYS: device key, user index. ARGV: deviceId, nodeId, connectionId.
 * Deletes the entry only while it still names this route: a newer connection of the device
 * (a fast reconnect, maybe on another node) has overwritten it and must survive.
 */
const REMOVE = new LuaScript(
  'registry-remove',
  `
local current = redis.call('GET', KEYS[1])
if not current then
  redis.call('SREM', KEYS[2], ARGV[1])
  return 0
end
local ok, route = pcall(cjson.decode, current)
if ok and type(route) == 'table' and route.nodeId == ARGV[2] and route.connectionId == ARGV[3] then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[1])
  return 1
end
return 0
`,
);

/**
 * KEYS: user index. ARGV: the user's device key prefix.
 * Returns [deviceId, routeJson, …] of the live entries and prunes index members whose key expired.
 */
const LOOKUP = new LuaScript(
  'registry-lookup',
  `
local members = redis.call('SMEMBERS', KEYS[1])
if #members == 0 then return {} end
local keys = {}
for i, d in ipairs(members) do keys[i] = ARGV[1] .. d end
local values = redis.call('MGET', unpack(keys))
local out = {}
for i, d in ipairs(members) do
  local v = values[i]
  if v then
    out[#out + 1] = d
    out[#out + 1] = v
  else
    redis.call('SREM', KEYS[1], d)
  end
end
return out
`,
);

export const REGISTRY_SCRIPTS: readonly LuaScript[] = [PUT, REMOVE, LOOKUP];

/**
 * ConnectionRegistry on Redis 7.0 (no per-field hash TTLs): one string key per device holding the
 * route as JSON, with the entry's TTL (PX), plus a per-user set of device ids as the index.
 * Heartbeats re-put, which refreshes the TTL; a crashed gateway's entries simply expire.
 */
export class RedisConnectionRegistry implements ConnectionRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async put(device: DeviceAddress, route: Route, ttlMs: number): Promise<void> {
    const value = JSON.stringify({ nodeId: route.nodeId, connectionId: route.connectionId });
    const ttl = Math.max(1, Math.ceil(ttlMs));
    await storageCall('registry put', () =>
      PUT.run(
        this.redis,
        [this.keys.registryDevice(device.userId, device.deviceId), this.keys.registryIndex(device.userId)],
        [device.deviceId, value, ttl],
      ),
    );
  }

  async remove(device: DeviceAddress, route: Route): Promise<void> {
    await storageCall('registry remove', () =>
      REMOVE.run(
        this.redis,
        [this.keys.registryDevice(device.userId, device.deviceId), this.keys.registryIndex(device.userId)],
        [device.deviceId, route.nodeId, route.connectionId],
      ),
    );
  }

  async lookup(userId: UserId): Promise<Array<{ deviceId: DeviceId; route: Route }>> {
    const call = this.lookupCall(userId);
    const reply = await storageCall('registry lookup', () => LOOKUP.run(this.redis, call.keys, call.args));
    return liveEntries(reply);
  }

  /** One pipeline of LOOKUP scripts, one per distinct user: a group's registries in one round trip. */
  async lookupMany(userIds: readonly UserId[]): Promise<Map<UserId, Array<{ deviceId: DeviceId; route: Route }>>> {
    const users = [...new Set(userIds)];
    const calls = users.map((userId) => this.lookupCall(userId));
    const replies = await storageCall('registry lookup many', () => LOOKUP.runMany(this.redis, calls));
    return new Map(users.map((userId, i) => [userId, liveEntries(replies[i])]));
  }

  private lookupCall(userId: UserId): ScriptCall {
    return { keys: [this.keys.registryIndex(userId)], args: [this.keys.registryDevicePrefix(userId)] };
  }
}

/** A LOOKUP reply, [deviceId, routeJson, …], as entries (unreadable routes are skipped). */
function liveEntries(reply: unknown): Array<{ deviceId: DeviceId; route: Route }> {
  const flat = Array.isArray(reply) ? (reply as unknown[]) : [];
  const live: Array<{ deviceId: DeviceId; route: Route }> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const route = parseRoute(flat[i + 1]);
    if (route) live.push({ deviceId: String(flat[i]), route });
  }
  return live;
}

function parseRoute(raw: unknown): Route | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const value = JSON.parse(raw) as { nodeId?: unknown; connectionId?: unknown };
    if (typeof value.nodeId !== 'string' || typeof value.connectionId !== 'string') return undefined;
    return { nodeId: value.nodeId, connectionId: value.connectionId };
  } catch {
    return undefined;
  }
}

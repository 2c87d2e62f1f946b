import type { CassandraConfig, ConsistencyName } from '../adapters/cassandra/cassandra-config.js';
import type { TokenSettings } from '../adapters/jwt/jwt-settings.js';
import { tokenSettingsFromEnv } from '../adapters/jwt/token-settings-from-env.js';
import { s3ConfigFromEnv, type S3BlobStoreConfig } from '../adapters/s3/s3-blob-store.js';

/** Everything the production world reads from its environment, validated in one place. */
export interface ProductionConfig {
  nodeId: string;
  /** How auth tokens are checked (and, with a signing key, issued): the CHAT_TOKEN_* variables. */
  tokens: TokenSettings;
  cassandra: CassandraConfig;
  redisUrl: string;
  /** Key and channel prefix in Redis (several deployments may share one Redis). */
  redisKeyPrefix: string;
  s3: S3BlobStoreConfig;
  /** FCM project; absent = push notifications are recorded, not sent (logged at start). */
  fcmProjectId: string | undefined;
  /** Other gateways' public WebSocket URLs, offered to clients when this one shuts down. */
  peerUrls: string[];
  /**
   * This node's write-ahead log folder (CHAT_WAL_DIR, default .wal/<nodeId>). It must survive a
   * restart of the node: a restarted gateway replays what it finds there.
   */
  walDir: string;
  /** Slot leases of conversation owners (CHAT_OWNER_LEASE_MS, CHAT_OWNER_SLOTS); defaults in system/ownership/lease-keeper.ts. */
  ownership: { leaseMs?: number; slotCount?: number };
}

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigurationError(`${name} is not set (see README, "Production variables")`);
  return value;
}

export function productionConfigFromEnv(env: NodeJS.ProcessEnv, nodeId: string): ProductionConfig {
  let tokens: TokenSettings;
  try {
    tokens = tokenSettingsFromEnv(env);
  } catch (error) {
    throw new ConfigurationError(`${(error as Error).message} (see README, "Production variables")`);
  }
  const cassandra: CassandraConfig = {
    contactPoints: required(env, 'CASSANDRA_CONTACT_POINTS')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    localDataCenter: required(env, 'CASSANDRA_LOCAL_DC'),
    ...(env.CASSANDRA_KEYSPACE && { keyspace: env.CASSANDRA_KEYSPACE }),
    ...(env.CASSANDRA_REPLICATION_FACTOR && { replicationFactor: Number(env.CASSANDRA_REPLICATION_FACTOR) }),
    ...(env.CASSANDRA_WRITE_CONSISTENCY && { writeConsistency: env.CASSANDRA_WRITE_CONSISTENCY as ConsistencyName }),
    ...(env.CASSANDRA_READ_CONSISTENCY && { readConsistency: env.CASSANDRA_READ_CONSISTENCY as ConsistencyName }),
    ...(env.CASSANDRA_REQUEST_TIMEOUT_MS && { requestTimeoutMs: positiveInteger(env, 'CASSANDRA_REQUEST_TIMEOUT_MS') }),
    ...(env.CASSANDRA_GROUP_COMMIT && { groupCommit: booleanFlag(env, 'CASSANDRA_GROUP_COMMIT') }),
    ...(env.CASSANDRA_USERNAME && { credentials: { username: env.CASSANDRA_USERNAME, password: env.CASSANDRA_PASSWORD ?? '' } }),
  };
  let s3: S3BlobStoreConfig;
  try {
    s3 = s3ConfigFromEnv(env);
  } catch (error) {
    throw new ConfigurationError((error as Error).message);
  }
  return {
    nodeId,
    tokens,
    cassandra,
    redisUrl: required(env, 'REDIS_URL'),
    redisKeyPrefix: env.REDIS_KEY_PREFIX ?? 'chat:',
    s3,
    fcmProjectId: env.FCM_PROJECT_ID || undefined,
    peerUrls: (env.CHAT_PEER_URLS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    walDir: env.CHAT_WAL_DIR || `.wal/${nodeId}`,
    ownership: {
      ...(env.CHAT_OWNER_LEASE_MS && { leaseMs: positiveInteger(env, 'CHAT_OWNER_LEASE_MS') }),
      ...(env.CHAT_OWNER_SLOTS && { slotCount: positiveInteger(env, 'CHAT_OWNER_SLOTS') }),
    },
  };
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string): number {
  const value = Number(env[name]);
  if (!Number.isInteger(value) || value <= 0) throw new ConfigurationError(`${name} must be a positive whole number, got "${env[name]}"`);
  return value;
}

function booleanFlag(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = env[name]?.trim().toLowerCase();
  if (value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw new ConfigurationError(`${name} must be 1 or 0, got "${env[name]}"`);
}

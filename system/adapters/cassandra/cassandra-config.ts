/**
 * Settings of the Cassandra adapters. They come from an explicit object: the composition root
 * reads the environment (CASSANDRA_CONTACT_POINTS, CASSANDRA_LOCAL_DC, …) and passes what it found;
 * nothing here looks at process.env.
 */

/** Consistency levels for ordinary reads and writes (the driver's names, upper case). */
export type ConsistencyName = 'ONE' | 'TWO' | 'THREE' | 'QUORUM' | 'ALL' | 'LOCAL_QUORUM' | 'EACH_QUORUM' | 'LOCAL_ONE';
/** Consistency levels for the Paxos phase of lightweight transactions. */
export type SerialConsistencyName = 'SERIAL' | 'LOCAL_SERIAL';

export interface CassandraConfig {
  /** `host` or `host:port` entries, e.g. `['127.0.0.1:19042']`. */
  contactPoints: readonly string[];
  /** The data center this process runs in; requests go to its replicas (DC-aware routing). */
  localDataCenter: string;
  /** Keyspace holding every table; created by the migrations when missing. Default `chat`. */
  keyspace?: string;
  /**
   * Replicas per data center, used only when the migrations create the keyspace
   * (NetworkTopologyStrategy, `localDataCenter` only). Default 1 (one local node); use 3 in production.
   */
  replicationFactor?: number;
  /** Writes, and the commit phase of lightweight transactions. Default LOCAL_QUORUM. */
  writeConsistency?: ConsistencyName;
  /** Plain reads (history, inbox listing, directory lookups). Default ONE. */
  readConsistency?: ConsistencyName;
  /** The Paxos phase of lightweight transactions and serial reads. Default LOCAL_SERIAL. */
  serialConsistency?: SerialConsistencyName;
  /** Client-side timeout of one request, in ms; a timeout becomes STORAGE_UNAVAILABLE. Default 10 000. */
  requestTimeoutMs?: number;
  /** Timeout of establishing a connection, in ms. Default 5 000. */
  connectTimeoutMs?: number;
  /**
   * Longest wait between reconnection attempts to a node that went down, in ms (the wait doubles
   * from 500 ms up to this). Bounds how long after an outage the write-ahead log can start to
   * drain. Default 4 000.
   */
  reconnectDelayMaxMs?: number;
  credentials?: { username: string; password: string };
  /**
   * Events per `messages` partition. Fixed for the life of a keyspace: the migrations record it
   * and startup refuses a different value. Default 1 000 (see docs/storage-cassandra.md).
   */
  bucketEvents?: number;
  /**
   * Inbox entries expire after this many seconds even when never acknowledged (TimeWindowCompaction
   * needs expiring data); a device offline longer catches up from the log by cursor. Default 30 days.
   * 0 = never expire (then switch the inbox table to another compaction strategy).
   */
  inboxTtlSeconds?: number;
  /**
   * How long a chat message's idempotency reservation is exclusive before another process may take
   * it over (after a crash of the reserving process). Default 10 000 ms.
   */
  idempotencyLeaseMs?: number;
  /** Most attempts to claim a sequence number under contention before giving up. Default 200. */
  claimAttemptsMax?: number;
  /**
   * Group commit: idempotent plain writes requested in one turn of the event loop go to Cassandra
   * together as unlogged batches (fewer requests, less node CPU per write; see
   * write-coalescer.ts). Default true; false sends each write as its own request.
   */
  groupCommit?: boolean;
}

export type CassandraSettings = Required<Omit<CassandraConfig, 'credentials'>> & Pick<CassandraConfig, 'credentials'>;

export const CASSANDRA_DEFAULTS = Object.freeze({
  keyspace: 'chat',
  replicationFactor: 1,
  writeConsistency: 'LOCAL_QUORUM',
  readConsistency: 'ONE',
  serialConsistency: 'LOCAL_SERIAL',
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  reconnectDelayMaxMs: 4_000,
  bucketEvents: 1_000,
  inboxTtlSeconds: 30 * 24 * 60 * 60,
  idempotencyLeaseMs: 10_000,
  claimAttemptsMax: 200,
  groupCommit: true,
} as const satisfies Omit<CassandraSettings, 'contactPoints' | 'localDataCenter' | 'credentials'>);

const KEYSPACE_PATTERN = /^[a-z][a-z0-9_]{0,47}$/;
const CONSISTENCIES: readonly string[] = ['ONE', 'TWO', 'THREE', 'QUORUM', 'ALL', 'LOCAL_QUORUM', 'EACH_QUORUM', 'LOCAL_ONE'];
const SERIAL_CONSISTENCIES: readonly string[] = ['SERIAL', 'LOCAL_SERIAL'];

/** Applies the defaults and validates; throws a plain Error naming the bad setting. */
export function resolveCassandraConfig(config: CassandraConfig): CassandraSettings {
  const settings: CassandraSettings = {
    ...CASSANDRA_DEFAULTS,
    ...withoutUndefined(config),
    contactPoints: [...config.contactPoints],
    localDataCenter: config.localDataCenter,
  };
  const problems: string[] = [];
  if (settings.contactPoints.length === 0 || settings.contactPoints.some((p) => p.trim() === ''))
    problems.push('contactPoints must list at least one host');
  if (!settings.localDataCenter) problems.push('localDataCenter is required');
  if (!KEYSPACE_PATTERN.test(settings.keyspace))
    problems.push(`keyspace ${JSON.stringify(settings.keyspace)} must match ${KEYSPACE_PATTERN}`);
  if (!Number.isInteger(settings.replicationFactor) || settings.replicationFactor < 1)
    problems.push('replicationFactor must be an integer >= 1');
  if (!CONSISTENCIES.includes(settings.writeConsistency))
    problems.push(`writeConsistency ${settings.writeConsistency} is not one of ${CONSISTENCIES.join(', ')}`);
  if (!CONSISTENCIES.includes(settings.readConsistency))
    problems.push(`readConsistency ${settings.readConsistency} is not one of ${CONSISTENCIES.join(', ')}`);
  if (!SERIAL_CONSISTENCIES.includes(settings.serialConsistency)) problems.push(`serialConsistency must be SERIAL or LOCAL_SERIAL`);
  for (const key of [
    'requestTimeoutMs',
    'connectTimeoutMs',
    'reconnectDelayMaxMs',
    'bucketEvents',
    'idempotencyLeaseMs',
    'claimAttemptsMax',
  ] as const) {
    if (!Number.isInteger(settings[key]) || settings[key] < 1) problems.push(`${key} must be a positive integer`);
  }
  if (!Number.isInteger(settings.inboxTtlSeconds) || settings.inboxTtlSeconds < 0) problems.push('inboxTtlSeconds must be an integer >= 0');
  if (typeof settings.groupCommit !== 'boolean') problems.push('groupCommit must be true or false');
  if (problems.length > 0) throw new Error(`invalid Cassandra settings: ${problems.join('; ')}`);
  return settings;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

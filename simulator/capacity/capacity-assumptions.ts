import { CapacityErrorCodes } from './capacity-error-codes.js';
import { ToolError } from '../../cli/tool-error.js';

/*
 * Everything the capacity model takes that a scenario does not say: what one node of each tier can
 * carry, how much spare room to provision, and a few per-message costs. Every figure has a default
 * and a source (ASSUMPTION_SOURCES). Per-node figures are the ones to replace with measurements
 * (MeasuredCapacity): the simulator's, or your own cluster's.
 */

export interface CapacityAssumptions {
  /** Concurrent WebSocket connections one gateway server holds. */
  connectionsPerGateway: number;
  /** Frames per second one gateway moves (sends in, acks, deliveries and receipts out, heartbeats). */
  framesPerGatewayPerS: number;
  /** Replica writes per second one Cassandra node absorbs (each replica of a write counts once). */
  cassandraWritesPerNodePerS: number;
  /** Data one Cassandra node should hold (bytes, after replication). */
  cassandraDiskBytesPerNode: number;
  /** Days of message log kept in Cassandra (the log never expires by itself). */
  retentionDays: number;
  /** Commands per second one Redis shard serves. */
  redisOpsPerShardPerS: number;
  /** Memory one Redis shard may use for registry and presence entries (bytes). */
  redisMemoryBytesPerShard: number;
  /** Registry + presence memory per connected device (bytes). */
  redisBytesPerConnection: number;
  /** Cassandra replication factor: every stored byte and every write is kept this many times. */
  replicationFactor: number;
  /** Provision this many times the need (1.5 = run at two-thirds of capacity at peak). >= 1. */
  headroom: number;
  /** Peak send rate ÷ daily mean, on top of the scenario's own rate curve and spikes. >= 1. */
  peakToAverage: number;
  /** Bytes stored per message copy besides the content: keys, seq, ids, timestamps, cell overhead. */
  messageOverheadBytes: number;
  /** Rows the message log writes per message (the message row, its idempotency row, the conversation head). */
  logWritesPerMessage: number;
  /** Client heartbeat interval (s): each heartbeat is a frame and refreshes presence and registry in Redis. */
  heartbeatIntervalS: number;
}

/** The per-node figures a measurement may replace (npm run capacity -- --measured FILE.json). */
export type PerNodeCapacity = Pick<
  CapacityAssumptions,
  'connectionsPerGateway' | 'framesPerGatewayPerS' | 'cassandraWritesPerNodePerS' | 'redisOpsPerShardPerS'
>;

/** Defaults: the design card's figures where it has one, planning figures (to be measured) otherwise. */
export const DEFAULT_CAPACITY_ASSUMPTIONS: Readonly<CapacityAssumptions> = Object.freeze({
  connectionsPerGateway: 10_000,
  framesPerGatewayPerS: 20_000,
  cassandraWritesPerNodePerS: 20_000,
  cassandraDiskBytesPerNode: 2e12,
  retentionDays: 365,
  redisOpsPerShardPerS: 100_000,
  redisMemoryBytesPerShard: 25e9,
  redisBytesPerConnection: 256,
  replicationFactor: 3,
  headroom: 1.5,
  peakToAverage: 2,
  messageOverheadBytes: 64,
  logWritesPerMessage: 3,
  heartbeatIntervalS: 30,
});

/**
 * The design card's own back-of-envelope: no headroom, sized at the daily mean, ~100 bytes per
 * message all told, one row per message. With the seed inputs this reproduces the card's table.
 */
export const DESIGN_CARD_ASSUMPTIONS: Readonly<CapacityAssumptions> = Object.freeze({
  ...DEFAULT_CAPACITY_ASSUMPTIONS,
  headroom: 1,
  peakToAverage: 1,
  messageOverheadBytes: 0,
  logWritesPerMessage: 1,
});

/** Where each default comes from; printed by `npm run capacity` and in docs/capacity.md. */
export const ASSUMPTION_SOURCES: Readonly<Record<keyof CapacityAssumptions, string>> = Object.freeze({
  connectionsPerGateway: 'design card: "10K connections per server"',
  framesPerGatewayPerS: 'planning figure (the card has none); replace with a measurement',
  cassandraWritesPerNodePerS: 'planning figure for a commodity node (the card has none); replace with a measurement',
  cassandraDiskBytesPerNode: 'planning figure: a common density ceiling that keeps repair and bootstrap times short',
  retentionDays: 'planning figure: one year of history',
  redisOpsPerShardPerS: 'planning figure for single-threaded Redis with simple commands; replace with a measurement',
  redisMemoryBytesPerShard: 'planning figure: a shard small enough to fail over quickly',
  redisBytesPerConnection: 'estimate: a registry hash and a presence key with TTL per device',
  replicationFactor: 'design card: LOCAL_QUORUM writes, which need at least 3 replicas to survive a node loss',
  headroom: 'planning figure: run at two-thirds of capacity at peak',
  peakToAverage: 'planning figure: a diurnal peak about twice the daily mean (the card sizes at the mean)',
  messageOverheadBytes: "estimate from the card's schema: two UUIDs, sender id, timestamp, type, cell overhead",
  logWritesPerMessage: 'reference system: messages row + message_idempotency row + conversation_heads (docs/storage-cassandra.md)',
  heartbeatIntervalS: 'design card: "Heartbeat interval: 30 seconds"',
});

/** Throws ToolError BAD_ASSUMPTION naming the first figure that cannot be used. */
export function validateAssumptions(a: CapacityAssumptions): void {
  const positive: Array<keyof CapacityAssumptions> = [
    'connectionsPerGateway',
    'framesPerGatewayPerS',
    'cassandraWritesPerNodePerS',
    'cassandraDiskBytesPerNode',
    'redisOpsPerShardPerS',
    'redisMemoryBytesPerShard',
    'heartbeatIntervalS',
    'retentionDays',
  ];
  for (const key of positive) {
    const v = a[key];
    if (!Number.isFinite(v) || v <= 0) {
      throw new ToolError(CapacityErrorCodes.BAD_ASSUMPTION, `${key} must be a positive number (capacity per node cannot be ${v})`);
    }
  }
  const nonNegative: Array<keyof CapacityAssumptions> = ['redisBytesPerConnection', 'messageOverheadBytes', 'logWritesPerMessage'];
  for (const key of nonNegative) {
    const v = a[key];
    if (!Number.isFinite(v) || v < 0) throw new ToolError(CapacityErrorCodes.BAD_ASSUMPTION, `${key} must be a number >= 0, got ${v}`);
  }
  if (!Number.isInteger(a.replicationFactor) || a.replicationFactor < 1) {
    throw new ToolError(CapacityErrorCodes.BAD_ASSUMPTION, `replicationFactor must be an integer >= 1, got ${a.replicationFactor}`);
  }
  if (!Number.isFinite(a.headroom) || a.headroom < 1) {
    throw new ToolError(CapacityErrorCodes.BAD_ASSUMPTION, `headroom must be >= 1 (1.5 = 50% spare), got ${a.headroom}`);
  }
  if (!Number.isFinite(a.peakToAverage) || a.peakToAverage < 1) {
    throw new ToolError(CapacityErrorCodes.BAD_ASSUMPTION, `peakToAverage must be >= 1, got ${a.peakToAverage}`);
  }
}

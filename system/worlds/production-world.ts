import { CassandraLeaseStore } from '../adapters/cassandra/cassandra-lease-store.js';
import { CassandraOwnedLog } from '../adapters/cassandra/cassandra-owned-log.js';
import { createCassandraStores } from '../adapters/cassandra/cassandra-stores.js';
import { FcmPushSender } from '../adapters/fcm/fcm-push-sender.js';
import { JwtTokenAuthority } from '../adapters/jwt/jwt-token-authority.js';
import { LocalRouter } from '../adapters/memory/local-router.js';
import { RecordingPushSender } from '../adapters/memory/recording-push-sender.js';
import { consoleLogger } from '../adapters/node/console-logger.js';
import { cryptoRandom } from '../adapters/node/crypto-random.js';
import { FileWriteAheadLog } from '../adapters/node/file-write-ahead-log.js';
import { systemClock } from '../adapters/node/system-clock.js';
import { createRedisAdapters } from '../adapters/redis/redis-adapters.js';
import { S3BlobStore } from '../adapters/s3/s3-blob-store.js';
import { resolveLimits, type Limits } from '../core/limits.js';
import { GatewayNode } from '../gateway/gateway-node.js';
import type { Metrics } from '../ports/metrics.js';
import type { PushSender } from '../ports/push-sender.js';
import { ChatCore } from '../services/chat-core.js';
import { ClusterOwners } from '../ownership/cluster-owners.js';
import { DEFAULT_OWNERSHIP, LeaseKeeper, type OwnershipSettings } from '../ownership/lease-keeper.js';
import type { ProductionConfig } from './production-config.js';

/**
 * The production world: the same core on Cassandra (messages, inbox, receipts, groups, devices),
 * Redis (connection registry, presence, routing between gateways, group cache), S3 (media) and
 * FCM (push). Several gateway processes share the backends; each runs one of these.
 */
export async function buildProductionWorld(config: ProductionConfig, options: { metrics: Metrics; limits?: Partial<Limits> }) {
  const log = consoleLogger(config.nodeId);
  const localRouter = new LocalRouter(config.nodeId);
  const cassandra = await createCassandraStores(config.cassandra);
  const limits = resolveLimits(options.limits);
  let redis;
  try {
    redis = await createRedisAdapters({
      url: config.redisUrl,
      nodeId: config.nodeId,
      localRouter,
      keyPrefix: config.redisKeyPrefix,
      logger: log,
      ownerCallTimeoutMs: limits.ownerCallTimeoutMs,
      presenceRecoveryHoldMs: limits.heartbeatIntervalMs,
    });
  } catch (error) {
    await cassandra.close();
    throw error;
  }
  // One owner per slot of conversations numbers their events in memory (docs/storage-cassandra.md).
  const ownership: OwnershipSettings = { ...DEFAULT_OWNERSHIP, ...config.ownership };
  if (ownership.leaseMs !== DEFAULT_OWNERSHIP.leaseMs) {
    // Shorter leases (tests, drills) need a node's ticks and liveness to keep pace with them.
    ownership.tickMs = Math.min(ownership.tickMs, Math.max(100, Math.floor(ownership.leaseMs / 6)));
    ownership.nodeTtlMs = Math.min(ownership.nodeTtlMs, ownership.leaseMs);
  }
  const keeper = new LeaseKeeper(
    { clock: systemClock, log, store: new CassandraLeaseStore(cassandra.controlCql), nodeId: config.nodeId },
    ownership,
  );
  const messages = new CassandraOwnedLog(cassandra.cql, keeper);
  const wal = await FileWriteAheadLog.open(config.walDir);
  if (wal.pending().length > 0)
    log.info('write-ahead log holds sends from the previous run; replaying', { entries: wal.pending().length, dir: config.walDir });
  const blobs = new S3BlobStore(config.s3);
  let push: PushSender;
  let closePush = async () => {};
  if (config.fcmProjectId) {
    const fcm = new FcmPushSender({ projectId: config.fcmProjectId });
    push = fcm;
    closePush = () => fcm.close();
  } else {
    log.warn('FCM_PROJECT_ID is not set: push notifications are recorded, not sent');
    push = new RecordingPushSender({ sentCap: 10_000 });
  }
  const core = new ChatCore({
    clock: systemClock,
    random: cryptoRandom,
    limits,
    nodeId: config.nodeId,
    tokens: new JwtTokenAuthority(config.tokens, systemClock, limits),
    messages,
    owners: new ClusterOwners(keeper, redis.ownerCalls),
    conversations: redis.cacheConversations(cassandra.conversations),
    inbox: cassandra.inbox,
    receipts: cassandra.receipts,
    directory: redis.cacheDirectory(cassandra.directory),
    keyPackages: cassandra.keyPackages,
    groupEpochs: cassandra.groupEpochs,
    incarnations: cassandra.incarnations,
    registry: redis.registry,
    router: redis.router,
    presence: redis.presence,
    blobs,
    push,
    metrics: options.metrics,
    log,
    wal,
  });
  try {
    // Stored at the keyspace's first start, the same for every gateway and every restart after.
    log.info('log incarnation', { incarnation: await core.incarnation.start() });
  } catch (error) {
    await wal.close();
    await redis.close();
    await cassandra.close();
    blobs.close();
    await closePush();
    throw error;
  }
  await redis.ownerCalls.start((call) => core.handleOwnerCall(call));
  await keeper.start();
  const node = new GatewayNode(core, localRouter, { peerUrls: config.peerUrls });
  redis.onReconnected(() => {
    node.reannounceSessions().then(
      ({ sessions, failed }) => log.info('redis is back: sessions re-announced', { sessions, failed }),
      (error: unknown) => log.warn('re-announcing sessions failed', { error: (error as Error).message }),
    );
  });
  return {
    core,
    node,
    keeper,
    async close() {
      await core.writeAhead?.stop();
      // Hand the slots back so their next owners wait only the clock-skew margin.
      await keeper.stop();
      await messages.drain();
      await wal.close();
      await redis.close();
      await cassandra.close();
      blobs.close();
      await closePush();
    },
  };
}

export type ProductionWorld = Awaited<ReturnType<typeof buildProductionWorld>>;

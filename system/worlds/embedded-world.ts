import { resolveLimits, type Limits } from '../core/limits.js';
import { EmbeddedBlobStore } from '../adapters/memory/embedded-blob-store.js';
import { LocalRouter } from '../adapters/memory/local-router.js';
import { MemoryConnectionRegistry } from '../adapters/memory/memory-connection-registry.js';
import { MemoryConversationStore } from '../adapters/memory/memory-conversation-store.js';
import { MemoryDirectoryStore } from '../adapters/memory/memory-directory-store.js';
import { MemoryGroupEpochStore } from '../adapters/memory/memory-group-epoch-store.js';
import { MemoryInboxStore } from '../adapters/memory/memory-inbox-store.js';
import { MemoryIncarnationStore } from '../adapters/memory/memory-incarnation-store.js';
import { MemoryKeyPackageStore } from '../adapters/memory/memory-key-package-store.js';
import { MemoryMessageStore } from '../adapters/memory/memory-message-store.js';
import { MemoryPresenceStore } from '../adapters/memory/memory-presence-store.js';
import { MemoryReceiptStore } from '../adapters/memory/memory-receipt-store.js';
import { RecordingPushSender } from '../adapters/memory/recording-push-sender.js';
import { JwtTokenAuthority } from '../adapters/jwt/jwt-token-authority.js';
import { sharedSecretTokenSettings, type TokenSettings } from '../adapters/jwt/jwt-settings.js';
import { cryptoRandom } from '../adapters/node/crypto-random.js';
import { heldTokenAuthority, type RealTimeWorkGate } from '../adapters/virtual/held-token-authority.js';
import { systemClock } from '../adapters/node/system-clock.js';
import { GatewayNode } from '../gateway/gateway-node.js';
import type { Clock } from '../ports/clock.js';
import { silentLogger, type Logger } from '../ports/logger.js';
import { noopMetrics, type Metrics } from '../ports/metrics.js';
import type { MessageStore } from '../ports/message-store.js';
import type { Random } from '../ports/random.js';
import type { WriteAheadLog } from '../ports/write-ahead-log.js';
import { ChatCore } from '../services/chat-core.js';

export interface EmbeddedWorldOptions {
  limits?: Partial<Limits>;
  nodeId?: string;
  /** HS256 secret of auth tokens (unless `tokens` says otherwise) and of embedded media URLs. */
  tokenSecret?: string;
  /** How auth tokens are signed and checked; default HS256 with tokenSecret. */
  tokens?: TokenSettings;
  /** Releases token work in the world's own order (virtual-time test worlds; see held-token-authority.ts). */
  tokenGate?: RealTimeWorkGate;
  clock?: Clock;
  random?: Random;
  metrics?: Metrics;
  log?: Logger;
  peerUrls?: string[];
  /** A write-ahead log for sends the message store refuses (tests of the outage path). */
  wal?: WriteAheadLog;
  /** Stores carried over from an earlier world on the same clock (tests of a process restart). */
  stores?: MemoryStores;
  /** Replaces the in-memory message store (tests wrap it to inject outages). */
  messages?: (memory: MessageStore) => MessageStore;
}

/** The embedded world's stores, registry and presence, all in memory on one clock. */
export function createMemoryStores(clock: Clock) {
  return {
    messages: new MemoryMessageStore(),
    conversations: new MemoryConversationStore(),
    inbox: new MemoryInboxStore(),
    receipts: new MemoryReceiptStore(),
    directory: new MemoryDirectoryStore(),
    keyPackages: new MemoryKeyPackageStore(),
    groupEpochs: new MemoryGroupEpochStore(),
    // The log's incarnation lives and dies with the log: new stores, new incarnation.
    incarnations: new MemoryIncarnationStore(),
    registry: new MemoryConnectionRegistry(clock),
    presence: new MemoryPresenceStore(clock),
  };
}

export type MemoryStores = ReturnType<typeof createMemoryStores>;

/** Development secret for the embedded world only; production must set its own. */
export const EMBEDDED_DEV_SECRET = 'embedded-development-secret-not-for-production';

/**
 * The embedded world: the core on in-memory adapters in one process, needing no services.
 * It is the product's default and the reference the other worlds' adapters are tested against.
 */
export function buildEmbeddedWorld(options: EmbeddedWorldOptions = {}) {
  const clock = options.clock ?? systemClock;
  const nodeId = options.nodeId ?? 'node-1';
  const tokenSecret = options.tokenSecret ?? EMBEDDED_DEV_SECRET;
  const router = new LocalRouter(nodeId);
  const stores = options.stores ?? createMemoryStores(clock);
  const blobs = new EmbeddedBlobStore({ secret: tokenSecret, clock });
  const push = new RecordingPushSender();
  const limits = resolveLimits(options.limits);
  const jwt = new JwtTokenAuthority(options.tokens ?? sharedSecretTokenSettings(tokenSecret), clock, limits);
  const core = new ChatCore({
    clock,
    random: options.random ?? cryptoRandom,
    limits,
    nodeId,
    tokens: options.tokenGate ? heldTokenAuthority(jwt, options.tokenGate) : jwt,
    ...stores,
    ...(options.messages && { messages: options.messages(stores.messages) }),
    ...(options.wal && { wal: options.wal }),
    router,
    blobs,
    push,
    metrics: options.metrics ?? noopMetrics,
    log: options.log ?? silentLogger,
  });
  const node = new GatewayNode(core, router, options.peerUrls ? { peerUrls: options.peerUrls } : {});
  // Read (or, with new stores, drawn) now, so the first welcome need not wait; memory cannot fail.
  core.incarnation.start().catch(() => undefined);
  return { core, node, router, stores, blobs, push };
}

export type EmbeddedWorld = ReturnType<typeof buildEmbeddedWorld>;

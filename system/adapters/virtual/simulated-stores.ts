import type { BlobInfo, BlobStore } from '../../ports/blob-store.js';
import type { Clock } from '../../ports/clock.js';
import type { ConnectionRegistry } from '../../ports/connection-registry.js';
import type { ConversationStore } from '../../ports/conversation-store.js';
import type { DirectoryStore } from '../../ports/directory-store.js';
import type { IncarnationStore } from '../../ports/incarnation-store.js';
import type { InboxStore } from '../../ports/inbox-store.js';
import type { Logger } from '../../ports/logger.js';
import type { MessageStore } from '../../ports/message-store.js';
import type { PresenceState, PresenceStore, Unsubscribe } from '../../ports/presence-store.js';
import type { PushNotification, PushResult, PushSender } from '../../ports/push-sender.js';
import type { ReceiptStore } from '../../ports/receipt-store.js';
import { MemoryConnectionRegistry } from '../memory/memory-connection-registry.js';
import { MemoryConversationStore } from '../memory/memory-conversation-store.js';
import { MemoryDirectoryStore } from '../memory/memory-directory-store.js';
import { MemoryInboxStore } from '../memory/memory-inbox-store.js';
import { MemoryIncarnationStore } from '../memory/memory-incarnation-store.js';
import { MemoryMessageStore } from '../memory/memory-message-store.js';
import { MemoryPresenceStore } from '../memory/memory-presence-store.js';
import { MemoryReceiptStore } from '../memory/memory-receipt-store.js';
import { RereadingPresenceWatches } from '../common/rereading-presence-watches.js';
import type { ServiceTier } from './service-tier.js';
import { DeviceListVersions, SimulatedDeviceListCache } from './simulated-device-cache.js';

/*
 * Simulated adapters for every storage port: the in-memory stores (the embedded world's, so the
 * data model is the real one) behind ServiceTiers that add network latency, finite capacity,
 * timeouts and outages in virtual time. Cassandra holds messages, conversations, inboxes,
 * receipts and the directory; Redis holds the connection registry and presence; the S3 tier
 * holds media objects; the push tier stands for FCM.
 */

type AsyncMethods<T> = { [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => Promise<R> : never };

/** How many requests at the tier one call of a method stands for, from its arguments. */
type RequestCount = (...args: never[]) => number;

/**
 * Each listed method of `inner()` is called through the tier (inner is read per call: Redis may be
 * replaced). A method listed as `[name, requestCount]` is a batch: one round trip and one scheduler
 * event, but the tier serves `requestCount(...args)` requests (at least 1), so its load stays what
 * the real store would see.
 */
function throughTier<T extends object>(
  store: string,
  inner: () => T,
  tier: ServiceTier,
  methods: ReadonlyArray<keyof T | readonly [keyof T, RequestCount]>,
  callerAlive?: () => boolean,
): T {
  const view: Record<string, unknown> = {};
  for (const method of methods) {
    const [name, requestCount] = Array.isArray(method) ? (method as readonly [keyof T, RequestCount]) : [method as keyof T, undefined];
    view[name as string] = (...args: unknown[]) =>
      tier.call(
        () => (inner() as unknown as AsyncMethods<Record<string, (...a: unknown[]) => Promise<unknown>>>)[name as string]!(...args),
        callerAlive,
        requestCount ? Math.max(1, requestCount(...(args as never[]))) : 1,
        `${store}.${name as string}`,
      );
  }
  return view as T;
}

/** A batched method's first argument is its list of users or devices: one request each. */
const perItem = (items: readonly unknown[]): number => items.length;

/** The shared state behind the tiers: one copy for the whole simulated cluster. */
export class SimulatedBackends {
  readonly messages: MessageStore = new CountingMessageStore();
  /** The unwrapped log (counts stored events and bytes, for storage growth). */
  readonly messageLog = this.messages as CountingMessageStore;
  readonly conversations = new MemoryConversationStore();
  readonly inbox = new CountingInboxStore();
  readonly receipts = new MemoryReceiptStore();
  readonly directory = new MemoryDirectoryStore();
  readonly blobs = new SimulatedObjectStore();
  /** The log's incarnation, kept like Cassandra keeps it: gateway crashes and restarts do not change it. */
  readonly incarnations = new MemoryIncarnationStore();
  private registryState: MemoryConnectionRegistry;
  private presenceState: MemoryPresenceStore;
  /** Presence watches survive a Redis restart the way a reconnecting subscriber's do. */
  private readonly watches = new Set<{ userId: string; listener: (s: PresenceState) => void; unsubscribe: Unsubscribe }>();
  pushesSent = 0;
  /** Device-list changes, for every gateway's cache (simulated-device-cache.ts). */
  readonly deviceListVersions = new DeviceListVersions();

  constructor(private readonly redisClock: Clock) {
    this.registryState = new MemoryConnectionRegistry(redisClock);
    this.presenceState = new MemoryPresenceStore(redisClock);
  }

  get registry(): MemoryConnectionRegistry {
    return this.registryState;
  }

  get presence(): MemoryPresenceStore {
    return this.presenceState;
  }

  /**
   * When Redis last came back from a restart (scheduler time; undefined: never restarted), as `INFO server`'s
   * uptime tells a production gateway (redis-adapters.ts): a gateway that starts soon after knows
   * its presence reads may still miss entries not yet put back.
   */
  redisRestartedAtMs: number | undefined;

  /** Redis restarted without persistence: every registry and presence entry is gone. */
  loseRedisState(): void {
    this.registryState = new MemoryConnectionRegistry(this.redisClock);
    const oldPresence = this.presenceState;
    this.presenceState = new MemoryPresenceStore(this.redisClock);
    for (const w of this.watches) {
      w.unsubscribe();
      w.unsubscribe = this.presenceState.watch(w.userId, w.listener);
    }
    void oldPresence;
  }

  watchPresence(userId: string, listener: (s: PresenceState) => void): Unsubscribe {
    const entry = { userId, listener, unsubscribe: this.presenceState.watch(userId, listener) };
    this.watches.add(entry);
    return () => {
      entry.unsubscribe();
      this.watches.delete(entry);
    };
  }
}

export interface TierSet {
  cassandra: ServiceTier;
  redis: ServiceTier;
  s3: ServiceTier;
  push: ServiceTier;
}

export interface SimulatedPorts {
  messages: MessageStore;
  conversations: ConversationStore;
  inbox: InboxStore;
  receipts: ReceiptStore;
  directory: DirectoryStore;
  incarnations: IncarnationStore;
  registry: ConnectionRegistry;
  presence: PresenceStore;
  /** The presence store's watches, for a re-read of every watched user when Redis is back. */
  presenceWatches: RereadingPresenceWatches;
  blobs: BlobStore;
  push: PushSender;
}

/** What a simulated process does with what it is told: its event loop, its clock and its log. */
export interface SimulatedProcess {
  /** Alive (a dead process gets no answers). */
  alive: () => boolean;
  /** Runs `job` when the process gets to it (after a pause, behind the work queued ahead). */
  runOnLoop: (job: () => void) => void;
  clock: Clock;
  log: Pick<Logger, 'warn' | 'error'>;
}

/** One gateway incarnation's view of the backends: every call crosses its tier; a dead caller gets no answers. */
export function simulatedPorts(backends: SimulatedBackends, tiers: TierSet, caller: SimulatedProcess): SimulatedPorts {
  const b = backends;
  const callerAlive = caller.alive;
  const presenceCalls = throughTier('presence', () => b.presence, tiers.redis, ['markOnline', 'markOffline', 'get'], callerAlive);
  // As on Redis (redis-presence-store.ts): a change is a signal on the user's channel, and the
  // gateway re-reads the state when its loop gets to the signal, so a paused gateway tells its
  // watchers what holds when it wakes, not what held while it slept.
  const presenceWatches = new RereadingPresenceWatches(
    (userId) => presenceCalls.get(userId),
    {
      subscribe: (userId, signal) => ({
        release: b.watchPresence(userId, () => {
          if (callerAlive()) caller.runOnLoop(signal);
        }),
      }),
    },
    caller.clock,
    caller.log,
  );
  return {
    // An append is two writes in production: the row, then the partition's visible head (cassandra-owned-log.ts).
    messages: throughTier(
      'messages',
      () => b.messages,
      tiers.cassandra,
      [['append', () => 2], 'readAfter', 'readBefore', 'lastSeq'],
      callerAlive,
    ),
    conversations: throughTier(
      'conversations',
      () => b.conversations,
      tiers.cassandra,
      ['createGroup', 'getGroup', 'addMembers', 'endMembership', 'setRole', 'noteParticipant', 'listConversations'],
      callerAlive,
    ),
    inbox: throughTier(
      'inbox',
      () => b.inbox,
      tiers.cassandra,
      ['enqueue', ['enqueueMany', perItem], 'list', 'ackThrough', 'depth', 'clear'],
      callerAlive,
    ),
    receipts: throughTier('receipts', () => b.receipts, tiers.cassandra, ['advance', 'raise', 'list'], callerAlive),
    // Each gateway incarnation keeps its own cache of device lists, as production gateways do.
    directory: new SimulatedDeviceListCache(
      throughTier(
        'directory',
        () => b.directory,
        tiers.cassandra,
        [
          'linkDevice',
          'unlinkDevice',
          'unlinkedAtMs',
          'getDevice',
          'listDevices',
          ['listDevicesMany', perItem],
          'userExists',
          'setPushToken',
        ],
        callerAlive,
      ),
      b.deviceListVersions,
    ),
    // Read once per gateway start, straight from the backends (its one request is not modelled).
    incarnations: b.incarnations,
    registry: throughTier('registry', () => b.registry, tiers.redis, ['put', 'remove', 'lookup', ['lookupMany', perItem]], callerAlive),
    presence: {
      markOnline: presenceCalls.markOnline,
      markOffline: presenceCalls.markOffline,
      get: presenceCalls.get,
      watch: (userId, listener) => presenceWatches.watch(userId, listener),
      offlineUnsureUntilMs: () => presenceWatches.offlineUnsureUntilMs,
    },
    presenceWatches,
    blobs: throughTier('blobs', () => b.blobs, tiers.s3, ['signUpload', 'signDownload', 'stat'], callerAlive),
    push: {
      send: (n: PushNotification) =>
        tiers.push.call(
          async (): Promise<PushResult> => {
            b.pushesSent++;
            void n;
            return { outcome: 'sent' };
          },
          callerAlive,
          1,
          'push.send',
        ),
    },
  };
}

/** The in-memory log, counting what it stores (storage growth in the report). */
export class CountingMessageStore extends MemoryMessageStore {
  storedEvents = 0;
  storedBodyBytes = 0;

  override async append(draft: Parameters<MemoryMessageStore['append']>[0]) {
    const result = await super.append(draft); // the append itself happened synchronously above
    if (!result.duplicate) {
      this.storedEvents++;
      if (draft.kind === 'message') this.storedBodyBytes += Math.floor((draft.bodyBase64.length * 3) / 4);
    }
    return result;
  }
}

/** The in-memory inboxes; the total of queued entries (inbox depth in the report) is kept as they change. */
export class CountingInboxStore extends MemoryInboxStore {
  get totalDepth(): number {
    return this.totalEntries;
  }
}

/**
 * Object storage in the simulation: objects exist by key and size (no bytes are kept; media is
 * opaque to the server). Signed URLs name the key; a virtual client "uploads" by calling put()
 * through the S3 tier.
 */
export class SimulatedObjectStore implements BlobStore {
  private readonly objects = new Map<string, BlobInfo>();
  storedBytes = 0;

  async signUpload(objectKey: string): Promise<string> {
    return `sim://s3/${objectKey}?op=put`;
  }

  async signDownload(objectKey: string): Promise<string> {
    return `sim://s3/${objectKey}?op=get`;
  }

  async stat(objectKey: string): Promise<BlobInfo | undefined> {
    return this.objects.get(objectKey);
  }

  async put(objectKey: string, info: BlobInfo): Promise<void> {
    if (!this.objects.has(objectKey)) this.storedBytes += info.sizeBytes;
    this.objects.set(objectKey, info);
  }

  get objectCount(): number {
    return this.objects.size;
  }
}

import { randomBytes } from 'node:crypto';
import type { ConversationId, Seq, UserId } from '../../core/ids.js';
import type { Logger } from '../../ports/logger.js';
import { silentLogger } from '../../ports/logger.js';
import type { ConversationStore, GroupRecord, MemberRole } from '../../ports/conversation-store.js';
import { LuaScript, RedisKeys, storageCall, toStorageError, type Redis } from './redis-client.js';

/**
 * Stores a read result only if no mutation happened since the read began. KEYS: cache key,
 * generation key. ARGV: the generation seen before reading ('' = none), record JSON, ttlMs.
 */
const FILL = new LuaScript(
  'group-cache-fill',
  `
local generation = redis.call('GET', KEYS[2]) or ''
if generation ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`,
);

/** KEYS: cache key, generation key. ARGV: a fresh generation token, its TTL. */
const INVALIDATE = new LuaScript(
  'group-cache-invalidate',
  `
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[1])
return 1
`,
);

export const GROUP_CACHE_SCRIPTS: readonly LuaScript[] = [FILL, INVALIDATE];

/** Decoded group records kept per process (each a few tens of KB at most). */
const LOCAL_RECORDS_MAX = 2_000;

interface LocalRecord {
  generation: string;
  record: GroupRecord;
  decodedAtMs: number;
}

export interface CachedConversationStoreOptions {
  keys?: RedisKeys;
  logger?: Logger;
}

/**
 * Caches getGroup (membership is read on every message to a group) in Redis as JSON, shared by
 * all nodes. Every mutating call invalidates the conversation's entry; the TTL is a safety net
 * for writes that bypass the decorator. Other calls go straight to the inner store.
 *
 * Invalidation is generation-based, so a slow reader cannot put back a record older than a
 * mutation: a mutation sets a fresh random generation token and deletes the entry; a reader that
 * missed remembers the generation it saw before reading the inner store and fills the cache only
 * if it is still the same. Mutations invalidate before (must succeed, or the call fails with
 * STORAGE_UNAVAILABLE before anything changed) and after the inner write (best effort, logged):
 * the first makes sure Redis is reachable, the second closes the window in which a reader could
 * fill from the old state.
 *
 * If Redis cannot be read, getGroup falls back to the inner store.
 *
 * Each process also keeps the records it decoded, with the generation they belong to: a repeat
 * read fetches only the generation (a few bytes) and, when it has not changed, reuses the decoded
 * record instead of transferring and parsing it again (a 256-member group's record is ~30 KB and is
 * read on every send and every delivery ack). The pair is consistent because Redis reads the
 * record and its generation in one MGET, a fill only lands while the generation is unchanged, and
 * every mutation replaces the generation and deletes the record in one script. A generation comes
 * back to an earlier value only by expiring to "none" after generationTtlMs (≥ 2 × the cache TTL),
 * so a local copy is used for at most half the cache TTL. Concurrent reads of one conversation in
 * a process share one request (a mutation through this process starts a fresh one).
 */
export class CachedConversationStore implements ConversationStore {
  private readonly keys: RedisKeys;
  private readonly logger: Logger;
  private readonly generationTtlMs: number;
  private readonly localMaxAgeMs: number;
  private readonly local = new Map<ConversationId, LocalRecord>();
  /** Reads in flight per conversation: callers that arrive meanwhile share one (a group's 255 acks at once). */
  private readonly reading = new Map<ConversationId, Promise<GroupRecord | undefined>>();

  constructor(
    private readonly inner: ConversationStore,
    private readonly redis: Redis,
    private readonly ttlMs: number,
    options: CachedConversationStoreOptions = {},
  ) {
    if (!(ttlMs > 0)) throw new Error('the group cache TTL must be positive');
    this.keys = options.keys ?? new RedisKeys('');
    this.logger = options.logger ?? silentLogger;
    // Far longer than any read can take, so a generation never vanishes under a reader.
    this.generationTtlMs = Math.max(2 * Math.ceil(ttlMs), 60_000);
    this.localMaxAgeMs = ttlMs / 2;
  }

  getGroup(conversationId: ConversationId): Promise<GroupRecord | undefined> {
    const running = this.reading.get(conversationId);
    if (running) return running;
    const read = this.readGroup(conversationId).finally(() => {
      if (this.reading.get(conversationId) === read) this.reading.delete(conversationId);
    });
    this.reading.set(conversationId, read);
    return read;
  }

  private async readGroup(conversationId: ConversationId): Promise<GroupRecord | undefined> {
    const cacheKey = this.keys.groupCache(conversationId);
    const generationKey = this.keys.groupGeneration(conversationId);
    let generation: string | undefined;
    try {
      const local = this.local.get(conversationId);
      // The monotonic clock of this process only ages local copies; no other process compares it.
      const nowMs = performance.now();
      if (local && nowMs - local.decodedAtMs < this.localMaxAgeMs && ((await this.redis.get(generationKey)) ?? '') === local.generation) {
        return local.record;
      }
      const [cached, seen] = await this.redis.mget(cacheKey, generationKey);
      if (cached) {
        const record = JSON.parse(cached) as GroupRecord;
        this.remember(conversationId, { generation: seen ?? '', record, decodedAtMs: nowMs });
        return record;
      }
      generation = seen ?? '';
    } catch (error) {
      this.logger.warn('group cache unavailable, reading the store', { conversationId, error: (error as Error).message });
    }
    const record = await this.inner.getGroup(conversationId);
    if (record && generation !== undefined) {
      await FILL.run(this.redis, [cacheKey, generationKey], [generation, JSON.stringify(record), Math.ceil(this.ttlMs)]).catch(
        (error: unknown) => {
          this.logger.warn('group cache fill failed', { conversationId, error: (error as Error).message });
        },
      );
    }
    return record;
  }

  createGroup(record: GroupRecord): Promise<void> {
    return this.mutate(record.conversationId, () => this.inner.createGroup(record));
  }

  addMembers(conversationId: ConversationId, userIds: UserId[], atSeq: Seq): Promise<void> {
    return this.mutate(conversationId, () => this.inner.addMembers(conversationId, userIds, atSeq));
  }

  endMembership(conversationId: ConversationId, userId: UserId, atSeq: Seq): Promise<void> {
    return this.mutate(conversationId, () => this.inner.endMembership(conversationId, userId, atSeq));
  }

  setRole(conversationId: ConversationId, userId: UserId, role: MemberRole): Promise<void> {
    return this.mutate(conversationId, () => this.inner.setRole(conversationId, userId, role));
  }

  noteParticipant(userId: UserId, conversationId: ConversationId): Promise<void> {
    return this.inner.noteParticipant(userId, conversationId);
  }

  listConversations(userId: UserId): Promise<ConversationId[]> {
    return this.inner.listConversations(userId);
  }

  /** Drops the cached record of a conversation (e.g. after a write that bypassed this decorator). */
  invalidate(conversationId: ConversationId): Promise<void> {
    return storageCall('group cache invalidate', () => this.bump(conversationId));
  }

  private remember(conversationId: ConversationId, entry: LocalRecord): void {
    this.local.delete(conversationId);
    this.local.set(conversationId, entry);
    if (this.local.size > LOCAL_RECORDS_MAX) this.local.delete(this.local.keys().next().value!);
  }

  private async mutate(conversationId: ConversationId, write: () => Promise<void>): Promise<void> {
    // Reads that began before this mutation must not answer callers that come after it.
    this.reading.delete(conversationId);
    this.local.delete(conversationId);
    await this.invalidate(conversationId);
    try {
      await write();
    } finally {
      // Also after a failed write: it may have partly happened.
      await this.bump(conversationId).catch((error: unknown) => {
        this.logger.error('group cache invalidation after a write failed; entry may be stale until its TTL', {
          conversationId,
          error: toStorageError(error, 'group cache invalidate').message,
        });
      });
    }
  }

  private async bump(conversationId: ConversationId): Promise<void> {
    await INVALIDATE.run(
      this.redis,
      [this.keys.groupCache(conversationId), this.keys.groupGeneration(conversationId)],
      [randomBytes(12).toString('hex'), this.generationTtlMs],
    );
  }
}

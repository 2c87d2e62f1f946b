import type { DeviceAddress, UserId } from '../../core/ids.js';
import type { DeviceRecord, DirectoryStore, LinkOutcome } from '../../ports/directory-store.js';
import type { Logger } from '../../ports/logger.js';
import { silentLogger } from '../../ports/logger.js';
import { storageCall, type Redis } from './redis-client.js';
import type { SubscriberHub, Subscription } from './subscriber-hub.js';

/** Invalidations remembered for readers in flight; beyond this the oldest only raises the floor (see mayFill). */
const INVALIDATIONS_TRACKED_MAX = 10_000;
/** Users whose change could not be announced yet; beyond this the oldest is left to the TTL. */
const OWED_MAX = 10_000;
/** Retry period of announcements that failed (Redis unreachable). */
const OWED_RETRY_MS = 1_000;

export interface CachedDirectoryStoreOptions {
  /** The pub/sub channel every node's cache listens on (RedisKeys.directoryChanges()). */
  channel: string;
  /** How long a cached device list may be served without any invalidation heard (default 60 s). */
  ttlMs?: number;
  /** Users whose device lists are kept at most; the oldest filled goes first (default 200 000). */
  usersMax?: number;
  logger?: Logger;
  /**
   * Registers a listener for the loss of the subscriber connection (ioredis `close`); returns its
   * removal. From a loss until the hub reports the connection back, invalidations may be missed,
   * so the cache is emptied and bypassed meanwhile. Without it, a loss goes unnoticed until the
   * reconnect (and the TTL bounds what a missed invalidation costs).
   */
  onSubscriberLost?: (listener: () => void) => () => void;
  /** Monotonic milliseconds for the TTL (default performance.now). */
  nowMs?: () => number;
}

interface Entry {
  devices: DeviceRecord[];
  filledAtMs: number;
}

export interface DirectoryCacheStats {
  /** Users answered from the cache. */
  hits: number;
  /** Users read from the inner store (a user joining a read already in flight counts once, there). */
  misses: number;
  /** Invalidations applied: local mutations and messages heard on the channel (own echoes included). */
  invalidations: number;
  /** Times the whole cache was dropped (subscriber lost or back). */
  clears: number;
  size: number;
  /** Whether reads are served from the cache now (subscribed, subscriber connection up). */
  live: boolean;
}

/**
 * A per-process cache of users' device lists in front of a DirectoryStore (the fan-out of every
 * message reads each recipient's devices; the lists change only on link, unlink and push-token
 * changes). Nothing is shared between processes but the invalidations: every mutation through any
 * node PUBLISHes the user id on one channel all nodes subscribe to, and resolves only after the
 * publish succeeded. docs/redis.md ("Device-list cache") states the consistency this gives.
 *
 * - Reads answer cached users at once and read all missing ones from the inner store in one
 *   `listDevicesMany`. Concurrent reads of a user share one inner read (a mutation or an
 *   invalidation makes later callers start a new one).
 * - A read fills the cache only if no invalidation of that user (and no clear) happened since the
 *   read began: every invalidation while reads are in flight bumps a counter and the user remembers
 *   the value, and a reader compares it with the value it started at. So a slow reader never puts
 *   back a list older than a change this process was told about.
 * - Entries expire after `ttlMs` (a safety net for invalidations that never arrive: writes that
 *   bypass the decorator, a publish lost on a connection that broke unnoticed) and the oldest go
 *   beyond `usersMax`.
 * - While the subscriber connection is down (or not subscribed yet) the cache is bypassed, and it
 *   is emptied when the connection is lost and again when it is back, since messages published
 *   meanwhile are lost.
 * - Mutations invalidate locally before and after the inner write; then they publish (linkDevice
 *   only when it linked — an `already-linked` on every connect changes nothing — or failed, since a
 *   failed call may have written). A publish that fails fails the call with STORAGE_UNAVAILABLE
 *   (the write may have happened: the caller retries) and is retried in the background every
 *   second, and before the next mutation of that user resolves, whatever its outcome.
 */
export class CachedDirectoryStore implements DirectoryStore {
  /** Resolves once the channel subscription is confirmed (reads bypass the cache until then). */
  readonly ready: Promise<void>;
  private readonly ttlMs: number;
  private readonly usersMax: number;
  private readonly logger: Logger;
  private readonly nowMs: () => number;
  private readonly entries = new Map<UserId, Entry>();
  /** Inner reads in flight, per user: callers arriving meanwhile join them. */
  private readonly reading = new Map<UserId, Promise<Map<UserId, DeviceRecord[]>>>();
  /** Counter value of each user's last invalidation, for readers in flight (see mayFill). */
  private readonly invalidatedAt = new Map<UserId, number>();
  private counter = 0;
  /** Readers that began before this counter value fill nothing (clears, forgotten invalidations). */
  private floor = 0;
  private readsInFlight = 0;
  private subscribed = false;
  private connected = true;
  private closed = false;
  /** Users whose change is not announced yet, each with the number of the failure (see publishOwed). */
  private readonly owed = new Map<UserId, number>();
  private owedCount = 0;
  private owedTimer: NodeJS.Timeout | undefined;
  private readonly subscription: Subscription;
  private readonly stopListening: Array<() => void> = [];
  private readonly counts = { hits: 0, misses: 0, invalidations: 0, clears: 0 };

  constructor(
    private readonly inner: DirectoryStore,
    private readonly redis: Redis,
    hub: SubscriberHub,
    private readonly options: CachedDirectoryStoreOptions,
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.usersMax = options.usersMax ?? 200_000;
    if (!(this.ttlMs > 0)) throw new Error('the device-list cache TTL must be positive');
    if (!(this.usersMax >= 1)) throw new Error('the device-list cache must hold at least one user');
    this.logger = options.logger ?? silentLogger;
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.subscription = hub.subscribe(options.channel, (message) => this.invalidate(message));
    this.ready = this.subscription.ready.then(() => {
      if (this.closed) return;
      this.clear();
      this.subscribed = true;
    });
    this.ready.catch(() => undefined); // logged by the hub; the cache stays bypassed
    this.stopListening.push(
      hub.onReconnect(() => {
        // ioredis has re-subscribed; anything published while the connection was away is lost.
        this.clear();
        this.connected = true;
      }),
    );
    if (options.onSubscriberLost) {
      this.stopListening.push(
        options.onSubscriberLost(() => {
          this.connected = false;
          this.clear();
        }),
      );
    }
  }

  private get live(): boolean {
    return this.subscribed && this.connected && !this.closed;
  }

  /** A snapshot of the counters. */
  get stats(): DirectoryCacheStats {
    return { ...this.counts, size: this.entries.size, live: this.live };
  }

  // ---------- reads ----------

  async listDevices(userId: UserId): Promise<DeviceRecord[]> {
    return (await this.listDevicesMany([userId])).get(userId) ?? [];
  }

  async listDevicesMany(userIds: readonly UserId[]): Promise<Map<UserId, DeviceRecord[]>> {
    if (!this.live) return this.inner.listDevicesMany(userIds);
    const found = new Map<UserId, DeviceRecord[]>();
    const missing: UserId[] = [];
    /** Reads already in flight that this call joins, with the users it takes from each. */
    const joined = new Map<Promise<Map<UserId, DeviceRecord[]>>, UserId[]>();
    const nowMs = this.nowMs();
    for (const userId of userIds) {
      if (found.has(userId)) continue;
      const entry = this.entries.get(userId);
      if (entry && nowMs - entry.filledAtMs < this.ttlMs) {
        found.set(userId, copies(entry.devices));
        this.counts.hits++;
        continue;
      }
      if (entry) this.entries.delete(userId);
      found.set(userId, []); // keeps the asked order; replaced below
      const running = this.reading.get(userId);
      if (!running) missing.push(userId);
      else if (joined.has(running)) joined.get(running)!.push(userId);
      else joined.set(running, [userId]);
    }
    // One inner read for all missing users.
    if (missing.length > 0) joined.set(this.readMissing(missing), missing);
    const answers = await Promise.all([...joined].map(async ([read, users]) => [users, await read] as const));
    for (const [users, lists] of answers) for (const userId of users) found.set(userId, copies(lists.get(userId) ?? []));
    return found;
  }

  /** Reads `users` from the inner store, shared with later callers, filling what may be filled. */
  private readMissing(users: UserId[]): Promise<Map<UserId, DeviceRecord[]>> {
    const startedAt = this.counter;
    this.counts.misses += users.length;
    this.readsInFlight++;
    const read = this.inner.listDevicesMany(users).then((lists) => {
      const filledAtMs = this.nowMs();
      for (const userId of users) {
        if (this.mayFill(userId, startedAt)) this.fill(userId, lists.get(userId) ?? [], filledAtMs);
      }
      return lists;
    });
    for (const userId of users) this.reading.set(userId, read);
    const done = () => {
      for (const userId of users) if (this.reading.get(userId) === read) this.reading.delete(userId);
      // With no reader in flight, no remembered invalidation can stop a fill any more.
      if (--this.readsInFlight === 0) this.invalidatedAt.clear();
    };
    read.then(done, done);
    return read;
  }

  /** No invalidation of the user, and no clear, since a read that began at `startedAt`. */
  private mayFill(userId: UserId, startedAt: number): boolean {
    return this.live && startedAt >= this.floor && (this.invalidatedAt.get(userId) ?? 0) <= startedAt;
  }

  private fill(userId: UserId, devices: DeviceRecord[], filledAtMs: number): void {
    this.entries.delete(userId);
    this.entries.set(userId, { devices, filledAtMs });
    if (this.entries.size > this.usersMax) this.entries.delete(this.entries.keys().next().value!);
  }

  async userExists(userId: UserId): Promise<boolean> {
    // A user exists from their first link on, for good: a device means yes. Asked through the
    // cache, so the one read also fills the device list that this node's fan-out and receipts for
    // the user need next (a 1:1 send asks whether the peer exists, then fans out to its devices:
    // one read, not two). Only a user without devices needs the store's own answer.
    if (this.live) {
      const devices = (await this.listDevicesMany([userId])).get(userId) ?? [];
      if (devices.length > 0) return true;
    }
    return this.inner.userExists(userId);
  }

  getDevice(device: DeviceAddress): Promise<DeviceRecord | undefined> {
    return this.inner.getDevice(device);
  }

  unlinkedAtMs(device: DeviceAddress): Promise<number | undefined> {
    return this.inner.unlinkedAtMs(device);
  }

  // ---------- mutations ----------

  async linkDevice(device: DeviceAddress, atMs: number, devicesPerUserMax: number): Promise<LinkOutcome> {
    const { userId } = device;
    this.invalidate(userId);
    let outcome: LinkOutcome;
    try {
      outcome = await this.inner.linkDevice(device, atMs, devicesPerUserMax);
    } catch (error) {
      await this.changed(userId).catch(() => undefined); // owed if it failed; the write's error wins
      throw error;
    }
    // `already-linked` (every connect of a linked device) and `limit-reached` changed nothing.
    if (outcome === 'linked' || this.owed.has(userId)) await this.changed(userId);
    return outcome;
  }

  unlinkDevice(device: DeviceAddress, atMs: number): Promise<void> {
    return this.mutate(device.userId, () => this.inner.unlinkDevice(device, atMs));
  }

  setPushToken(device: DeviceAddress, token: string | undefined): Promise<void> {
    return this.mutate(device.userId, () => this.inner.setPushToken(device, token));
  }

  private async mutate(userId: UserId, write: () => Promise<void>): Promise<void> {
    this.invalidate(userId);
    try {
      await write();
    } catch (error) {
      await this.changed(userId).catch(() => undefined);
      throw error;
    }
    await this.changed(userId);
  }

  /** After a write: forget the user here, and tell every node (resolves once Redis took the message). */
  private async changed(userId: UserId): Promise<void> {
    this.invalidate(userId);
    const owedBefore = this.owed.get(userId);
    try {
      await storageCall('directory invalidation publish', () => this.redis.publish(this.options.channel, userId));
      // Announced, unless a concurrent change of the user failed to announce itself meanwhile.
      if (this.owed.get(userId) === owedBefore) this.owed.delete(userId);
    } catch (error) {
      this.owe(userId);
      this.logger.warn('device-list invalidation not published; retrying', { userId, error: (error as Error).message });
      throw error;
    }
  }

  private owe(userId: UserId): void {
    this.owed.delete(userId);
    this.owed.set(userId, ++this.owedCount);
    if (this.owed.size > OWED_MAX) {
      const dropped = this.owed.keys().next().value!;
      this.owed.delete(dropped);
      this.logger.error('device-list invalidation dropped; other nodes may serve the old list until the cache TTL', { userId: dropped });
    }
    this.retryOwedLater();
  }

  private retryOwedLater(): void {
    if (this.owedTimer || this.closed || this.owed.size === 0) return;
    this.owedTimer = setTimeout(() => {
      this.owedTimer = undefined;
      void this.publishOwed();
    }, OWED_RETRY_MS);
    this.owedTimer.unref();
  }

  private async publishOwed(): Promise<void> {
    const users = [...this.owed];
    const results = await Promise.allSettled(users.map(([userId]) => this.redis.publish(this.options.channel, userId)));
    results.forEach((result, index) => {
      const [userId, failure] = users[index]!;
      // A change whose announcement failed meanwhile stays owed: this publish may predate its write.
      if (result.status === 'fulfilled' && this.owed.get(userId) === failure) this.owed.delete(userId);
    });
    this.retryOwedLater();
  }

  // ---------- invalidation ----------

  /** Drops the user's entry and stops reads in flight from filling it (also the channel's handler). */
  private invalidate(userId: UserId): void {
    this.counts.invalidations++;
    this.entries.delete(userId);
    this.reading.delete(userId);
    if (this.readsInFlight === 0) return; // nothing in flight that could fill
    const at = ++this.counter;
    this.invalidatedAt.delete(userId);
    this.invalidatedAt.set(userId, at);
    if (this.invalidatedAt.size > INVALIDATIONS_TRACKED_MAX) {
      const [, oldest] = this.invalidatedAt.entries().next().value!;
      this.invalidatedAt.delete(this.invalidatedAt.keys().next().value!);
      this.floor = Math.max(this.floor, oldest);
    }
  }

  /** Drops everything, and stops every read in flight from filling. */
  private clear(): void {
    this.counts.clears++;
    this.entries.clear();
    this.reading.clear();
    this.invalidatedAt.clear();
    this.floor = ++this.counter;
  }

  /** Unsubscribes and stops the retry timer; reads and writes go straight to the inner store after. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clear();
    this.subscription.release();
    for (const stop of this.stopListening) stop();
    clearTimeout(this.owedTimer);
    this.owedTimer = undefined;
  }
}

function copies(devices: readonly DeviceRecord[]): DeviceRecord[] {
  return devices.map((d) => ({ ...d }));
}

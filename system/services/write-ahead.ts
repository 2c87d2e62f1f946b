/**
 * The write-ahead path of chat sends (docs/write-ahead-log.md). When the message store cannot take
 * a send (an outage or a timeout), the gateway logs it durably in its node-local WAL and answers
 * `queued`: the sender has its one tick, the seq comes later. A replayer drains the log into the
 * store once it answers again — in log order per conversation, through the normal accept path, so
 * replays are idempotent (the store's idempotency key) and fan out like any send.
 *
 * Order: while a conversation has entries in this node's log, later sends to it on this node are
 * logged behind them (FIFO), even once the store is back; a sender that moves to another node
 * re-sends its queued messages first (the SDK keeps them in its outbox until they have a seq).
 */
import { ChatError, isChatError } from '../core/errors.js';
import type { ConversationId } from '../core/ids.js';
import type { TimerHandle } from '../ports/clock.js';
import type { WalEntry, WalEntryDraft, WriteAheadLog } from '../ports/write-ahead-log.js';
import type { CoreDeps } from './deps.js';

export type ReplayOutcome = 'stored' | 'duplicate';

/** A conversation whose replays keep being refused is logged at most this often. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/** Replays one entry through the accept path; throws STORAGE_UNAVAILABLE while the store is still down. */
export type ReplayEntry = (entry: WalEntry) => Promise<ReplayOutcome>;

export function isStoreOutage(error: unknown): boolean {
  return isChatError(error) && error.code === 'STORAGE_UNAVAILABLE';
}

/** A refusal that repeating cannot change (not a member any more, an idempotency conflict, …). */
function isPermanentRefusal(error: unknown): boolean {
  return isChatError(error) && !error.retryable;
}

function idempotencyKey(e: Pick<WalEntry, 'conversationId' | 'senderUserId' | 'senderDeviceId' | 'clientMessageId'>): string {
  return `${e.conversationId} ${e.senderUserId} ${e.senderDeviceId} ${e.clientMessageId}`;
}

export class WriteAhead {
  /** Pending entries per conversation, in log order. */
  private readonly byConversation = new Map<ConversationId, WalEntry[]>();
  private readonly byKey = new Map<string, WalEntry>();
  /** Pending entries by id; Map order is log order, so the first is the oldest. */
  private readonly byId = new Map<number, WalEntry>();
  private replayTimer: TimerHandle | undefined;
  /**
   * The replay running per conversation. Each conversation replays on its own, so one whose log
   * keeps growing (a busy sender queueing behind it) never holds back another's first entry.
   */
  private readonly replaying = new Map<ConversationId, Promise<void>>();
  private retryDelayMs: number;
  /** When a refused replay was last logged, per conversation (a long outage must not flood the log). */
  private readonly refusalLoggedAtMs = new Map<ConversationId, number>();
  private stopped = false;

  constructor(
    private readonly deps: Pick<CoreDeps, 'clock' | 'limits' | 'metrics' | 'log'> & { wal: WriteAheadLog },
    private readonly replayEntry: ReplayEntry,
  ) {
    this.retryDelayMs = deps.limits.walReplayRetryMs;
    for (const entry of deps.wal.pending()) this.track(entry);
    this.reportState();
    // A restarted gateway replays what its previous run left.
    if (this.byId.size > 0) this.scheduleReplay(0);
  }

  get pendingCount(): number {
    return this.byId.size;
  }

  /** Whether sends to the conversation must queue behind logged ones (FIFO per conversation). */
  hasPending(conversationId: ConversationId): boolean {
    return this.byConversation.has(conversationId);
  }

  /** The logged entry of this send, if it is waiting (a retry of a queued send is answered from here). */
  findPending(key: Pick<WalEntry, 'conversationId' | 'senderUserId' | 'senderDeviceId' | 'clientMessageId'>): WalEntry | undefined {
    return this.byKey.get(idempotencyKey(key));
  }

  /** Logs a send durably; resolves once it is on disk (the sender may be told it is queued). */
  async append(draft: WalEntryDraft): Promise<WalEntry> {
    if (this.byId.size >= this.deps.limits.walEntriesMax) {
      throw new ChatError(
        'STORAGE_UNAVAILABLE',
        `the message store is unavailable and this gateway's write-ahead log is full (${this.deps.limits.walEntriesMax} entries); retry later`,
      );
    }
    const entry = await this.deps.wal.append(draft);
    this.track(entry);
    this.deps.metrics.walAppended();
    this.reportState();
    this.scheduleReplay(this.retryDelayMs);
    return entry;
  }

  /** Stops replay timers (the log stays as it is for the next run). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.replayTimer?.cancel();
    this.replayTimer = undefined;
    while (this.replaying.size > 0) await Promise.all(this.replaying.values());
  }

  /**
   * Starts replaying every conversation with logged entries and no replay running; resolves when
   * every replay running then has drained its conversation or met the store down. Exposed for
   * tests and shutdown.
   */
  async replayNow(): Promise<void> {
    for (const conversationId of this.byConversation.keys()) {
      if (!this.replaying.has(conversationId)) this.startReplay(conversationId);
    }
    await Promise.all(this.replaying.values());
  }

  private scheduleReplay(delayMs: number): void {
    if (this.stopped || this.replayTimer || this.byId.size === 0) return;
    this.replayTimer = this.deps.clock.setTimer(delayMs, () => {
      this.replayTimer = undefined;
      void this.replayNow();
    });
  }

  /** Conversations replay concurrently, each strictly in log order; a refused one waits for the next timer. */
  private startReplay(conversationId: ConversationId): void {
    const run = this.replayConversation(conversationId).then((outcome) => {
      this.replaying.delete(conversationId);
      this.retryDelayMs =
        outcome === 'store-down'
          ? Math.min(this.retryDelayMs * 2, this.deps.limits.walReplayRetryMaxMs)
          : this.deps.limits.walReplayRetryMs;
      this.reportState();
      this.scheduleReplay(this.retryDelayMs);
    });
    this.replaying.set(conversationId, run);
  }

  private async replayConversation(conversationId: ConversationId): Promise<'drained' | 'store-down'> {
    for (;;) {
      const entry = this.byConversation.get(conversationId)?.[0];
      if (!entry || this.stopped) return 'drained';
      try {
        const outcome = await this.replayEntry(entry);
        this.deps.metrics.walReplayed(outcome);
      } catch (error) {
        if (isStoreOutage(error)) {
          this.noteRefusal(conversationId, entry, error);
          return 'store-down';
        }
        if (!isPermanentRefusal(error)) {
          // Anything else (a Redis timeout, a dropped connection, an unexpected error) may pass: keep
          // the entry and try again later. Dropping it would lose a message the sender was told is safe.
          this.deps.log.warn('write-ahead log replay failed; will retry', {
            conversationId,
            clientMessageId: entry.clientMessageId,
            error: error instanceof Error ? error.message : String(error),
          });
          return 'store-down';
        }
        // Refused for good (the sender left the group meanwhile, an idempotency conflict): keep the
        // log moving and say so loudly; the sender was told "queued", so this is a visible loss.
        this.deps.log.error('write-ahead log entry refused on replay; dropped', {
          conversationId,
          clientMessageId: entry.clientMessageId,
          code: isChatError(error) ? error.code : undefined,
          error: error instanceof Error ? error.message : String(error),
        });
        this.deps.metrics.walReplayed('rejected');
      }
      await this.deps.wal.complete(entry.id);
      this.untrack(entry);
      this.reportState();
    }
  }

  /** A replay the store (or the conversation's owner) refused for now: said at most once per conversation per walReplayLogIntervalMs. */
  private noteRefusal(conversationId: ConversationId, entry: WalEntry, error: unknown): void {
    const nowMs = this.deps.clock.nowMs();
    const lastMs = this.refusalLoggedAtMs.get(conversationId);
    if (lastMs !== undefined && nowMs - lastMs < REFUSAL_LOG_INTERVAL_MS) return;
    this.refusalLoggedAtMs.set(conversationId, nowMs);
    this.deps.log.info('write-ahead log replay refused for now; will retry', {
      conversationId,
      clientMessageId: entry.clientMessageId,
      waitingEntries: this.byConversation.get(conversationId)?.length ?? 0,
      error: error instanceof Error ? error.message : String(error),
    });
  }

  private track(entry: WalEntry): void {
    const list = this.byConversation.get(entry.conversationId);
    if (list) list.push(entry);
    else this.byConversation.set(entry.conversationId, [entry]);
    this.byKey.set(idempotencyKey(entry), entry);
    this.byId.set(entry.id, entry);
  }

  private untrack(entry: WalEntry): void {
    const list = this.byConversation.get(entry.conversationId);
    if (list && list[0]?.id === entry.id) list.shift();
    if (list && list.length === 0) {
      this.byConversation.delete(entry.conversationId);
      this.refusalLoggedAtMs.delete(entry.conversationId);
    }
    this.byKey.delete(idempotencyKey(entry));
    this.byId.delete(entry.id);
  }

  private reportState(): void {
    const oldest = this.byId.values().next().value;
    this.deps.metrics.walState(this.byId.size, oldest ? Math.max(0, this.deps.clock.nowMs() - oldest.acceptedAtMs) : 0);
  }
}

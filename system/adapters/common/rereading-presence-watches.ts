import type { UserId } from '../../core/ids.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import type { PresenceState, Unsubscribe } from '../../ports/presence-store.js';

type Listener = (state: PresenceState) => void;

/** How a store hears that a user's presence may have changed: a subscription it can release. */
export interface PresenceSignalSource {
  /** Starts delivering signals for the user; `ready` settles when signals are flowing. */
  subscribe(userId: UserId, signal: () => void): { ready?: Promise<unknown>; release(): void };
}

/** The watches of one user in this process, and the online flag they last heard. */
interface Watched {
  listeners: Set<{ listener: Listener }>;
  /** The flag listeners last heard (or the baseline read when the watch began). */
  known: boolean | undefined;
  checking: boolean;
  /** A signal arrived while a check was running: check again after it. */
  again: boolean;
  closed: boolean;
  release: () => void;
  /** A re-read failed: the retry waiting to run, and how long the next one waits. */
  retry: TimerHandle | undefined;
  retryDelayMs: number;
}

/** First wait before re-reading a user whose re-read failed; doubles up to the cap. */
const REREAD_RETRY_FIRST_MS = 250;
const REREAD_RETRY_MAX_MS = 8_000;

/**
 * Presence watches that treat every notification as a signal, never as the state: a signal makes
 * this process re-read the user's state, and listeners hear it only when the flag differs from
 * what they last heard. So signals may be duplicated, lost, late or out of order (a process that
 * was paused reads its backlog of signals at once) without a listener ever hearing a stale state:
 * what it hears is what the store held when the process read it. Reads of one user never overlap;
 * a signal during a read asks for one more read after it. A read that fails is tried again
 * (250 ms, doubling to 8 s) until one succeeds: the signal that asked for it will not come again.
 */
export class RereadingPresenceWatches {
  private readonly watched = new Map<UserId, Watched>();
  private closed = false;
  /** Until then a re-read that finds a user offline is not believed (storeRecovered). */
  private offlineHeldUntilMs = 0;
  private holdEnd: TimerHandle | undefined;

  constructor(
    private readonly read: (userId: UserId) => Promise<PresenceState>,
    private readonly signals: PresenceSignalSource,
    private readonly clock: Clock,
    private readonly logger: Pick<Logger, 'warn' | 'error'>,
  ) {}

  watch(userId: UserId, listener: Listener): Unsubscribe {
    const current = this.watched.get(userId) ?? this.startWatching(userId);
    const entry = { listener };
    current.listeners.add(entry);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      current.listeners.delete(entry);
      if (current.listeners.size === 0 && this.watched.get(userId) === current) {
        this.watched.delete(userId);
        this.stop(current);
      }
    };
  }

  /** Something says the user's state may have changed: read it again. */
  signal(userId: UserId): void {
    const watched = this.watched.get(userId);
    if (watched) this.check(userId, watched);
  }

  /** Re-reads every watched user (after the store came back, and on a safety-net poll). */
  recheckAll(): void {
    for (const [userId, watched] of this.watched) this.check(userId, watched);
  }

  /**
   * The store is back after a loss, and may have come back empty (a Redis restart forgets every
   * entry). Every watched user is read again, but for `holdOfflineMs` a user found offline is not
   * reported: the gateways are putting their sessions back, and every live device refreshes its
   * entry within a heartbeat interval, so until then "no entry" does not mean "offline". A user
   * found online is reported at once; at the end of the hold every watched user is read again.
   */
  storeRecovered(holdOfflineMs: number): void {
    const nowMs = this.clock.nowMs();
    this.offlineHeldUntilMs = Math.max(this.offlineHeldUntilMs, nowMs + holdOfflineMs);
    // No hold left (Redis had not restarted): the re-read below is all there is to do.
    if (this.offlineHeldUntilMs > nowMs) {
      this.holdEnd?.cancel();
      this.holdEnd = this.clock.setTimer(this.offlineHeldUntilMs - nowMs, () => {
        this.holdEnd = undefined;
        this.recheckAll();
      });
    }
    this.recheckAll();
  }

  /** See PresenceStore.offlineUnsureUntilMs: the end of the hold after storeRecovered. */
  get offlineUnsureUntilMs(): number {
    return this.offlineHeldUntilMs;
  }

  get watchedUserCount(): number {
    return this.watched.size;
  }

  close(): void {
    this.closed = true;
    this.holdEnd?.cancel();
    this.holdEnd = undefined;
    for (const watched of this.watched.values()) this.stop(watched);
    this.watched.clear();
  }

  private stop(watched: Watched): void {
    watched.closed = true;
    watched.retry?.cancel();
    watched.retry = undefined;
    watched.release();
  }

  private startWatching(userId: UserId): Watched {
    const watched: Watched = {
      listeners: new Set(),
      known: undefined,
      checking: false,
      again: false,
      closed: false,
      release: () => undefined,
      retry: undefined,
      retryDelayMs: REREAD_RETRY_FIRST_MS,
    };
    this.watched.set(userId, watched);
    const subscription = this.signals.subscribe(userId, () => this.check(userId, watched));
    watched.release = () => subscription.release();
    // The baseline read goes out now: anything this process does afterwards (a markOnline right
    // after watch) is ordered after it and will be heard.
    this.check(userId, watched);
    // Changes made elsewhere between the baseline read and the subscription taking effect were
    // signalled to nobody: read once more when it is in place.
    subscription.ready?.then(
      () => this.check(userId, watched),
      () => undefined,
    );
    return watched;
  }

  private check(userId: UserId, watched: Watched): void {
    if (watched.closed || this.closed) return;
    if (watched.checking) {
      watched.again = true;
      return;
    }
    watched.retry?.cancel();
    watched.retry = undefined;
    watched.checking = true;
    void this.runChecks(userId, watched);
  }

  private async runChecks(userId: UserId, watched: Watched): Promise<void> {
    try {
      do {
        watched.again = false;
        let state: PresenceState;
        try {
          state = await this.read(userId);
        } catch (error) {
          if (watched.closed || this.closed) return;
          this.logger.warn('presence re-read failed', { userId, error: (error as Error).message, retryInMs: watched.retryDelayMs });
          this.retryLater(userId, watched);
          return;
        }
        if (watched.closed || this.closed) return;
        watched.retryDelayMs = REREAD_RETRY_FIRST_MS;
        if (watched.known === undefined) {
          watched.known = state.online; // the baseline: nothing to tell yet
        } else if (watched.known !== state.online && (state.online || this.clock.nowMs() >= this.offlineHeldUntilMs)) {
          watched.known = state.online;
          for (const { listener } of [...watched.listeners]) {
            try {
              listener(state);
            } catch (error) {
              this.logger.error('presence listener failed', { userId, error: (error as Error).message });
            }
          }
        }
      } while (watched.again);
    } finally {
      watched.checking = false;
    }
  }

  private retryLater(userId: UserId, watched: Watched): void {
    const delayMs = watched.retryDelayMs;
    watched.retryDelayMs = Math.min(REREAD_RETRY_MAX_MS, delayMs * 2);
    watched.retry = this.clock.setTimer(delayMs, () => {
      watched.retry = undefined;
      this.check(userId, watched);
    });
  }
}

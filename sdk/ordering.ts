import type { ConversationEvent } from '../system/core/events.js';
import type { ConversationId, Seq } from '../system/core/ids.js';

/** How an event reached the client: pushed on the connection, or fetched by sync/history. */
export type Via = 'live' | 'sync';

/** What the ordering layer asks of its owner (the client). */
export interface OrderingSink {
  /** Hand an event to the application: called in seq order, at most once per seq. */
  deliver(event: ConversationEvent, via: Via): void;
  /**
   * Fetch the events after `afterSeq` (a gap opened, or the connection was re-established).
   * `fromLink`: the conversation has no cursor yet; fetch from this device's link point instead
   * (the first event accepted after the device was linked, within its user's membership), the
   * earliest event the server can owe this device. Return false when it cannot be sent now; the
   * request stays wanted until retried. The owner reports the end with syncFinished().
   */
  requestSync(conversationId: ConversationId, afterSeq: Seq, fromLink?: boolean): boolean;
  /**
   * Whether one of our own sends to the conversation still waits for its answer. A conversation
   * without a cursor does not start while one does: its seq may come before the events seen so
   * far. A send the server queued (write-ahead log) must not count: its seq comes only as its own
   * copy, which a connection that already pushed a higher seq drops, so waiting for it could last
   * until the next reconnect; the sync from the link point fetches it instead.
   */
  hasPendingSend?(conversationId: ConversationId): boolean;
}

/** ignored: the ordering is halted (see halt()); the event changed nothing and is not kept. */
export type ObserveOutcome = 'delivered' | 'duplicate' | 'buffered' | 'ignored';

/** A seq seen ahead of the cursor. `event` undefined = this client's own accepted send. */
interface Held {
  event: ConversationEvent | undefined;
  via: Via;
  /** For an own send: runs when the seq takes its place in order (see observe()). */
  onObserved: (() => void) | undefined;
}

class ConversationOrder {
  /** Highest seq observed in order (handed to the app, or an own send); undefined = none yet. */
  cursor: Seq | undefined = undefined;
  /** Seqs seen beyond cursor+1; created only when there is a gap, to keep idle state small. */
  held: Map<Seq, Held> | undefined = undefined;
  syncing = false;
  /** A sync is owed (gap or resume) and has not completed yet. */
  wantSync = false;
  /** Highest held seq when the running sync was requested (see syncFinished). */
  horizon: Seq = 0;
  /** Cursorless: a sync from this device's link point completed (see tryBegin). */
  linkSynced = false;
}

/**
 * Per-conversation ordering and de-duplication: the app sees every conversation's events in seq
 * order, each once, whatever order and multiplicity the network produced.
 *
 * - seq <= cursor: a duplicate (inbox redelivery after reconnect, sync overlap): dropped.
 * - seq == cursor+1: handed over; held successors follow.
 * - seq > cursor+1: held, and one sync after the cursor is requested for the gap.
 * The client's own sends count as observed at their seq (the server does not echo them to the
 * sending device), without being handed over.
 */
export class Ordering {
  private readonly conversations = new Map<ConversationId, ConversationOrder>();
  /** See halt(). */
  private halted = false;

  constructor(
    private readonly sink: OrderingSink,
    cursors?: Readonly<Record<ConversationId, Seq>>,
  ) {
    for (const [conversationId, seq] of Object.entries(cursors ?? {})) {
      if (!Number.isSafeInteger(seq) || seq < 0) continue;
      this.stateOf(conversationId).cursor = seq;
    }
  }

  cursor(conversationId: ConversationId): Seq | undefined {
    return this.conversations.get(conversationId)?.cursor;
  }

  /**
   * How far a copy seen at `seq` may be acknowledged: acks are cumulative (the server drops the
   * inbox through them and tells the conversation "delivered up to"), so never past the cursor,
   * before which this device has everything. A copy past a gap (an own logged message numbered
   * after events still missing, a duplicate held behind a gap) is acked up to the cursor; the rest
   * follows in order. 0: nothing to ack yet.
   */
  ackableThrough(conversationId: ConversationId, seq: Seq): Seq {
    return Math.min(seq, this.cursor(conversationId) ?? 0);
  }

  cursors(): Record<ConversationId, Seq> {
    const out: Record<ConversationId, Seq> = {};
    for (const [id, state] of this.conversations) if (state.cursor !== undefined) out[id] = state.cursor;
    return out;
  }

  /**
   * The owner closed or went offline (suspend): from now on nothing is handed over and no cursor
   * moves, until resume(). Events seen meanwhile (the rest of a sync page being handled when the
   * app closed from a listener) are ignored; held events stay held, handed over loops stop where
   * they are, and every sync stays wanted. So the cursors the owner saves never pass an event the
   * app was not given, and what it was given is never given again by a client started from them.
   */
  halt(): void {
    this.halted = true;
  }

  /** Back online (a new connection was welcomed): hand over again. */
  resume(): void {
    this.halted = false;
  }

  get isHalted(): boolean {
    return this.halted;
  }

  /** Seqs currently held behind a gap (for tests and diagnostics). */
  heldSeqs(conversationId: ConversationId): Seq[] {
    const held = this.conversations.get(conversationId)?.held;
    return held ? [...held.keys()].sort((a, b) => a - b) : [];
  }

  /**
   * An event (or, with event undefined, the client's own send) was seen at `seq`. For an own send,
   * `onObserved` runs once its seq takes its place in this client's order: right away when it is
   * next (or already passed), later when events before it are still missing. (The client records
   * its history `ack` there, so a device's observations of a conversation always rise.)
   */
  observe(
    conversationId: ConversationId,
    seq: Seq,
    event: ConversationEvent | undefined,
    via: Via,
    onObserved?: () => void,
  ): ObserveOutcome {
    if (this.halted) return 'ignored';
    const state = this.stateOf(conversationId);
    if (state.cursor === undefined) return this.observeWithoutCursor(conversationId, state, seq, event, via, onObserved);
    if (seq <= state.cursor) {
      onObserved?.();
      return 'duplicate';
    }
    if (seq === state.cursor + 1) {
      this.advance(state, seq, event, via, onObserved);
      this.release(conversationId, state);
      return 'delivered';
    }
    const existing = state.held?.get(seq);
    if (existing) {
      if (onObserved) existing.onObserved ??= onObserved;
      return 'duplicate';
    }
    (state.held ??= new Map()).set(seq, { event, via, onObserved });
    this.startSync(conversationId, state);
    return 'buffered';
  }

  /**
   * One of our sends to the conversation was settled without a seq (rejected, or queued: its seq
   * will come only as its copy): a conversation that was waiting for it to start may start now.
   */
  sendSettled(conversationId: ConversationId): void {
    const state = this.conversations.get(conversationId);
    if (state && state.cursor === undefined) this.tryBegin(conversationId, state);
  }

  /**
   * The sync for a conversation ended. complete = the server answered its last page (or refused
   * for good). After a complete sync, holes below the horizon are seqs the server will never give
   * this device (stretches when its user was not a member): every seq held before the sync was
   * requested was already stored when the server answered, yet nothing filled the hole. So the
   * held events up to the horizon are handed over, skipping the holes. complete = false (timeout,
   * disconnect, retryable error, or a halted ordering) leaves the sync wanted, for
   * retryWanted()/resumeAll().
   */
  syncFinished(conversationId: ConversationId, complete: boolean): void {
    const state = this.conversations.get(conversationId);
    if (!state) return;
    state.syncing = false;
    if (!complete || this.halted) return;
    state.wantSync = false;
    const horizon = state.horizon;
    state.horizon = 0;
    if (state.cursor === undefined) {
      // A sync from the link point: what it brought is held with the rest; start at the lowest.
      state.linkSynced = true;
      this.tryBegin(conversationId, state);
    }
    const held = state.held;
    if (held && state.cursor !== undefined) {
      const settled = [...held.keys()].filter((seq) => seq <= horizon).sort((a, b) => a - b);
      for (const seq of settled) {
        // Halted by the app from a delivery: the rest stays held (release() wants a sync for it).
        if (this.halted) break;
        const entry = held.get(seq)!;
        held.delete(seq);
        if (seq > state.cursor) this.advance(state, seq, entry.event, entry.via, entry.onObserved);
        else entry.onObserved?.();
      }
      if (held.size === 0) state.held = undefined;
    }
    this.release(conversationId, state);
  }

  /**
   * After reconnecting: catch up every conversation with a cursor (missed while offline), and
   * re-ask the link-point syncs that cursorless conversations were waiting for.
   */
  resumeAll(): void {
    for (const state of this.conversations.values()) if (state.cursor !== undefined) state.wantSync = true;
    this.retryWanted();
  }

  /** Re-requests every sync that is wanted and not running (after a retryable failure). */
  retryWanted(): void {
    for (const [conversationId, state] of this.conversations) {
      if (state.wantSync && !state.syncing) this.startSync(conversationId, state);
    }
  }

  /**
   * The server's log started over (a new incarnation in `welcome`): its seqs mean nothing here any
   * more. Forgets every conversation's cursor, held events and sync state, so the new log's events
   * (from seq 1 again) are delivered rather than dropped as duplicates. Returns the cursors it
   * dropped.
   */
  reset(): Record<ConversationId, Seq> {
    const dropped = this.cursors();
    this.conversations.clear();
    return dropped;
  }

  /** The connection dropped: running syncs are lost (their answers will never come). */
  resetInFlight(): void {
    for (const state of this.conversations.values()) state.syncing = false;
  }

  /**
   * No cursor yet (a fresh device, or a group it was just added to). Seq 1 starts the conversation
   * at once: nothing can precede it. Anything higher is held, and one sync from this device's link
   * point is asked for: an earlier event may be owed to this device and still on its way (its live
   * delivery lost to a dying gateway, a fan-out retry, the offline inbox still draining), and
   * starting above it would drop it for good, since the cumulative ack would clear it from the
   * inbox. Once that sync is complete, the conversation starts at the lowest seq held, the sync's
   * own events included. Own sends are held the same way: adopting our own seq as the cursor
   * would drop the earlier events as duplicates. While one of our sends to the conversation is
   * unacknowledged, nothing starts it: our message may precede what is held (its `sent` can
   * arrive after an event with a higher seq).
   */
  private observeWithoutCursor(
    conversationId: ConversationId,
    state: ConversationOrder,
    seq: Seq,
    event: ConversationEvent | undefined,
    via: Via,
    onObserved: (() => void) | undefined,
  ): ObserveOutcome {
    const held = (state.held ??= new Map());
    const existing = held.get(seq);
    if (existing) {
      if (onObserved) existing.onObserved ??= onObserved;
      return 'duplicate';
    }
    held.set(seq, { event, via, onObserved });
    return this.tryBegin(conversationId, state) ? 'delivered' : 'buffered';
  }

  /** Starts a cursorless conversation when what is held allows it (see observeWithoutCursor). */
  private tryBegin(conversationId: ConversationId, state: ConversationOrder): boolean {
    const held = state.held;
    if (!held || held.size === 0 || this.halted) return false;
    const start = Math.min(...held.keys());
    if (start !== 1) {
      if (this.sink.hasPendingSend?.(conversationId)) return false;
      if (!state.linkSynced) {
        this.startSync(conversationId, state);
        return false;
      }
    }
    const first = held.get(start)!;
    held.delete(start);
    this.advance(state, start, first.event, first.via, first.onObserved);
    this.release(conversationId, state);
    return true;
  }

  private advance(state: ConversationOrder, seq: Seq, event: ConversationEvent | undefined, via: Via, onObserved?: () => void): void {
    state.cursor = seq;
    if (event !== undefined) this.sink.deliver(event, via);
    onObserved?.();
  }

  /** Hands over held successors of the cursor; asks for a sync if a gap remains. */
  private release(conversationId: ConversationId, state: ConversationOrder): void {
    const held = state.held;
    if (!held) return;
    while (!this.halted) {
      const next = state.cursor! + 1;
      const entry = held.get(next);
      if (!entry) break;
      held.delete(next);
      this.advance(state, next, entry.event, entry.via, entry.onObserved);
    }
    if (held.size === 0) {
      state.held = undefined;
      return;
    }
    this.startSync(conversationId, state);
  }

  /**
   * Once per gap: a running sync already covers anything held since it started. Without a cursor
   * the sync runs from the device's link point (once; see tryBegin).
   */
  private startSync(conversationId: ConversationId, state: ConversationOrder): void {
    state.wantSync = true;
    if (state.syncing || this.halted) return;
    if (state.cursor === undefined && (state.linkSynced || !state.held)) return;
    state.horizon = state.held ? Math.max(...state.held.keys()) : 0;
    state.syncing = true;
    const requested =
      state.cursor === undefined ? this.sink.requestSync(conversationId, 0, true) : this.sink.requestSync(conversationId, state.cursor);
    if (!requested) state.syncing = false;
  }

  private stateOf(conversationId: ConversationId): ConversationOrder {
    let state = this.conversations.get(conversationId);
    if (!state) {
      state = new ConversationOrder();
      this.conversations.set(conversationId, state);
    }
    return state;
  }
}

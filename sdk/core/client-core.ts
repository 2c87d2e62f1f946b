import type { ConversationEvent, MediaRef } from '../../system/core/events.js';
import type { ClientMessageId, ConversationId, Seq } from '../../system/core/ids.js';
import type { TimerHandle } from '../../system/ports/clock.js';
import type { ClientFrame, ServerFrame, ServerFrameOf, ServerFrameType } from '../../system/protocol/frames.js';
import { backoffDelayMs } from '../backoff.js';
import { ChatClientError } from '../errors.js';
import { Ordering, type OrderingSink, type Via } from '../ordering.js';
import { ClientConnection, closedError } from './client-connection.js';
import { decodeServerFrame } from './decode-frame.js';
import { deliverRecord, recordAck, recordPresence, recordReceipt, recordSend } from './device-history.js';
import { Outbox, type MlsMarker, type PendingSend } from './outbox.js';
import type { ClientCoreConfig, ClientCoreHost, ResetInfo, SavedClientState, WelcomeInfo } from './ports.js';
import { ReceiptWatermarks } from './receipt-watermarks.js';
import { RequestTable } from './request-table.js';
import { encodeSendFrame } from './send-frame.js';

export interface NewSendOptions {
  /** The idempotency key; generated when absent. */
  clientMessageId?: ClientMessageId;
  media?: MediaRef;
  mls?: MlsMarker;
}

/**
 * One device's protocol logic, sans I/O. The connection lifecycle (auth, heartbeats, reconnect
 * backoff, `goaway`) is the ClientConnection it extends (client-connection.ts); this adds what
 * flows over a connection: the outbox re-sent with the same clientMessageId until answered,
 * in-order de-duplicated delivery with gap and link-point sync (Ordering), cumulative acks, receipts with stale watermarks dropped, error routing, the
 * frameBytesMax check, and the server log's incarnation. It is fed connection events, frames and
 * timer expiries, and emits frames, timer requests and callbacks through its ClientCoreHost.
 *
 * The SDK's ChatClient is its Promise/emitter/socket face; the simulator's virtual devices run the
 * same core on simulated connections in virtual time. Not re-entrant from the host's callbacks
 * except through the documented methods (send, request, ack, markRead, close, suspend).
 */
export class ClientCore extends ClientConnection implements OrderingSink {
  private readonly ordering: Ordering;
  private requestTable: RequestTable | undefined;
  private readonly outbox = new Outbox();
  /** Made on the first receipt (or restored). */
  private receiptMarks: ReceiptWatermarks | undefined;
  /** Sends answered with a seq whose history `ack` waits for earlier events (the order holds it); made on first use. */
  private heldAcks: Set<PendingSend> | undefined;
  /** The server log incarnation the cursors belong to (last welcome's, or the saved one). */
  private incarnationValue: string | undefined;
  private syncRetryTimer: TimerHandle | undefined;
  /** Acks gathered while handling one frame, sent (highest seq per conversation) at its end. */
  private ackBatch: Map<ConversationId, Seq> | undefined;
  /** Reads made while offline, sent after the next welcome. */
  private pendingReads: Map<ConversationId, Seq> | undefined;
  private ridCounter = 0;
  private messageCounter = 0;

  constructor(host: ClientCoreHost, config: ClientCoreConfig, saved?: Partial<SavedClientState>) {
    super(host, config);
    this.ordering = new Ordering(this, saved?.cursors);
    if (saved?.receiptMarks) this.receiptMarks = new ReceiptWatermarks(saved.receiptMarks);
    this.incarnationValue = saved?.incarnation;
    for (const send of saved?.outbox ?? []) {
      send.timer = undefined;
      this.outbox.add(send);
    }
  }

  // ---------- state ----------

  get incarnation(): string | undefined {
    return this.incarnationValue;
  }

  /** Messages sent and not yet acknowledged by the server. */
  get pendingSendCount(): number {
    return this.outbox.size;
  }

  /** Requests (sync pages included) waiting for their answer. */
  get pendingRequestCount(): number {
    return this.requestTable?.size ?? 0;
  }

  cursor(conversationId: ConversationId): Seq | undefined {
    return this.ordering.cursor(conversationId);
  }

  cursors(): Record<ConversationId, Seq> {
    return this.ordering.cursors();
  }

  findSend(conversationId: ConversationId, clientMessageId: ClientMessageId): PendingSend | undefined {
    return this.outbox.get(conversationId, clientMessageId);
  }

  /**
   * What to keep to resume later: cursors, receipt watermarks, and every send without a recorded
   * ack. A send whose seq came while events before it were missing has no ack recorded yet (the
   * order holds it until the gap is filled): it goes back into the outbox, so that the next run
   * learns its seq again (a re-send answered as a duplicate, or its own copy by sync) and records
   * the ack then. Dropped, a message logged during an outage would look lost to the checker
   * although it was stored and delivered.
   */
  save(): SavedClientState {
    const outbox = this.outbox.values();
    if (this.heldAcks) for (const send of this.heldAcks) outbox.push(send);
    for (const send of outbox) {
      send.timer?.cancel();
      send.timer = undefined;
    }
    const saved: SavedClientState = { cursors: this.ordering.cursors(), outbox, incarnation: this.incarnationValue };
    const marks = this.receiptMarks?.saved;
    if (marks) saved.receiptMarks = marks;
    return saved;
  }

  // ---------- what the app does ----------

  /**
   * Stops for good (see ClientConnection.close). Nothing is handed to the app any more, not even
   * what a sync the close cuts short was holding: its cursors stay where they are, so a client
   * started from them (saved before or after this) fetches those events again and delivers them once.
   */
  override close(error: ChatClientError, report: boolean): void {
    if (this.stateValue !== 'closed') this.ordering.halt();
    super.close(error, report);
  }

  /** Goes offline (see ClientConnection.suspend); nothing is handed over until the next welcome. */
  override suspend(): void {
    if (this.stateValue !== 'closed') this.ordering.halt();
    super.suspend();
  }

  // ---------- connection hooks ----------

  /** After a welcome: restore what the server keeps per connection, then catch up. */
  protected connectionRestored(frame: WelcomeInfo): void {
    this.ordering.resume();
    const reset = this.noteIncarnation(frame.incarnation);
    const watched = this.host.watchedUsers();
    if (watched) {
      const userIds = Array.isArray(watched) ? (watched as string[]) : [...watched];
      if (userIds.length > 0) this.writeFrame({ type: 'presence_subscribe', userIds });
    }
    if (this.pendingReads) {
      for (const [conversationId, seq] of this.pendingReads) this.writeFrame({ type: 'read', conversationId, seq });
      this.pendingReads = undefined;
    }
    // Sends go before the catch-up, in their original order: they are what the user is waiting for.
    for (const send of this.outbox.values()) this.transmit(send);
    if (this.config.catchUpOnConnect) this.ordering.resumeAll();
    else this.ordering.retryWanted();
    this.host.connected(frame, reset);
  }

  /**
   * Remembers the welcome's log incarnation. Another one than the client knew means the server's
   * log started over: its seqs restart at 1 and it has forgotten every acknowledged send, so what
   * the client keeps about the old log is dropped. A welcome without one (an older server)
   * changes nothing.
   */
  private noteIncarnation(incarnation: string | undefined): ResetInfo | undefined {
    if (incarnation === undefined) return undefined;
    const previousIncarnation = this.incarnationValue;
    this.incarnationValue = incarnation;
    if (previousIncarnation === undefined || previousIncarnation === incarnation) return undefined;
    const cursors = this.ordering.reset();
    this.outbox.forgetServerState();
    this.receiptMarks = undefined;
    this.pendingReads = undefined;
    return { previousIncarnation, incarnation, cursors };
  }

  /** A welcomed connection ended: answers to requests sent on it will never come. */
  protected connectionForgotten(code: number, reason: string): void {
    // Requests are not replayed (a group change is not idempotent); sends are, from the outbox.
    this.requestTable?.failAll(new ChatClientError('DISCONNECTED', `connection lost (${code} ${reason})`));
    this.outbox.cancelTimers();
    this.ordering.resetInFlight();
    this.syncRetryTimer?.cancel();
    this.syncRetryTimer = undefined;
  }

  protected abandonAll(error: ChatClientError): void {
    this.requestTable?.failAll(error);
    for (const send of this.outbox.takeAll()) this.host.sendFailed(send, error, true);
  }

  protected override dropConnection(code?: number, reason?: string): void {
    this.ackBatch = undefined;
    super.dropConnection(code, reason);
  }

  protected override cancelRetryTimers(): void {
    super.cancelRetryTimers();
    this.syncRetryTimer?.cancel();
    this.syncRetryTimer = undefined;
    this.outbox.cancelTimers();
  }

  // ---------- inbound frames ----------

  /** A text frame arrived on connection `connectionId` (decoded, and validated if configured). */
  receiveText(connectionId: number, text: string): void {
    if (connectionId !== this.generation) return;
    this.lastFrameAtMs = this.host.clock.nowMs();
    const decoded = decodeServerFrame(text, this.config.validateFrames);
    if (decoded.error) {
      if (decoded.rid === undefined || !this.requestTable?.fail(decoded.rid, decoded.error)) this.host.error(decoded.error);
      return;
    }
    if (decoded.frame) this.handleFrame(decoded.frame);
  }

  /** A frame arrived on connection `connectionId` already as an object (the simulator's connections). */
  receiveFrame(connectionId: number, frame: ServerFrame): void {
    if (connectionId !== this.generation) return;
    this.lastFrameAtMs = this.host.clock.nowMs();
    this.handleFrame(frame);
  }

  private handleFrame(frame: ServerFrame): void {
    try {
      this.dispatch(frame);
    } finally {
      if (!this.config.acksPerInstant) this.flushAcks();
    }
  }

  private dispatch(frame: ServerFrame): void {
    switch (frame.type) {
      case 'welcome':
        this.onWelcome(frame);
        return;
      case 'event':
        // Events replayed from the offline inbox are catch-up, not live delivery.
        this.onEvent(frame.event, frame.queued ? 'sync' : 'live', true);
        return;
      case 'sent':
        this.onSent(frame);
        return;
      case 'queued':
        this.onQueued(frame);
        return;
      case 'receipt':
        if (!(this.receiptMarks ??= new ReceiptWatermarks()).raise(frame)) return;
        if (this.config.history) recordReceipt(this.config.history, this.host.clock.nowMs(), this.device, frame);
        this.host.receipt(frame);
        return;
      case 'presence':
        if (this.config.history) recordPresence(this.config.history, this.host.clock.nowMs(), this.device, frame);
        this.host.presence(frame);
        return;
      case 'error':
        this.onErrorFrame(frame);
        return;
      case 'goaway':
        this.onGoaway(frame);
        return;
      case 'heartbeat_ack':
        this.heartbeatAcknowledged();
        return;
      case 'sync_result':
      case 'history_result':
      case 'conversations_result':
      case 'receipts_result':
      case 'group_result':
      case 'media_url':
      case 'ok':
      case 'kp_status':
      case 'kp_claimed':
        this.requestTable?.settle(frame.rid, frame);
        return;
    }
  }

  /** pushed: the event came in an `event` frame (live, or replayed from the inbox: `queued`). */
  private onEvent(event: ConversationEvent, via: Via, pushed = false): void {
    // Closed or suspended from a delivery while a page was handed over: the rest of it is moot.
    if (this.ordering.isHalted) return;
    if (this.isOwnPendingMessage(event)) {
      // A message of ours still in the outbox comes back numbered: that is its ack. A queued one
      // (write-ahead log) usually pushed, as the replay fans it out to the sender too; by sync when
      // this device had already acknowledged later events, so the replay's fan-out passed it by.
      // One whose answer was lost (its fan-out failed after the append) by sync: without taking
      // it as the ack, a re-send queued by a store outage would wait for a copy the replay's
      // fan-out passes by (this device acknowledged the seq already), unacknowledged for good.
      // Not queued: an earlier attempt was stored and its answer lost, so this answer is a duplicate's.
      const duplicate = this.outbox.get(event.conversationId, event.clientMessageId)?.queued !== true;
      this.onSent({
        type: 'sent',
        conversationId: event.conversationId,
        clientMessageId: event.clientMessageId,
        seq: event.seq,
        serverTimeMs: event.serverTimeMs,
        duplicate,
      });
      // A pushed copy also sits in this device's inbox.
      if (pushed && this.config.autoAck) this.ackInOrder(event.conversationId, event.seq);
      return;
    }
    const outcome = this.ordering.observe(event.conversationId, event.seq, event, via);
    // A pushed duplicate means the server still thinks we lack it (inbox redelivery after a
    // reconnect, or a push that raced a sync): ack again so it leaves the inbox.
    if (outcome === 'duplicate' && pushed && this.config.autoAck) this.ackInOrder(event.conversationId, event.seq);
  }

  /** Events a request fetched (sync, history): handed to the app through the ordering path. */
  observeFetched(events: readonly ConversationEvent[]): void {
    for (const event of events) this.onEvent(event, 'sync');
  }

  /** Acks a pushed copy as far as it is in order (Ordering.ackableThrough). */
  private ackInOrder(conversationId: ConversationId, seq: Seq): void {
    const through = this.ordering.ackableThrough(conversationId, seq);
    if (through > 0) this.queueAck(conversationId, through);
  }

  private isOwnPendingMessage(event: ConversationEvent): event is Extract<ConversationEvent, { kind: 'message' }> {
    const welcome = this.device;
    if (event.kind !== 'message' || !welcome) return false;
    if (event.senderUserId !== welcome.userId || event.senderDeviceId !== welcome.deviceId) return false;
    return this.outbox.get(event.conversationId, event.clientMessageId) !== undefined;
  }

  private onQueued(frame: ServerFrameOf<'queued'>): void {
    const send = this.outbox.get(frame.conversationId, frame.clientMessageId);
    if (!send) return;
    const answeredHereFirst = send.queuedOnConnection !== this.generation;
    send.queuedOnConnection = this.generation;
    if (answeredHereFirst) {
      send.timer?.cancel();
      send.timer = undefined;
      this.releaseHeld(frame.conversationId);
    }
    if (send.queued) return; // already known to be queued (a repeated answer)
    send.queued = true;
    // Durable on the server: no timer re-sends; a reconnect still does (see PendingSend.queued).
    send.timer?.cancel();
    send.timer = undefined;
    if (this.config.history) recordSend(this.config.history, 'queued', this.host.clock.nowMs(), this.device, send);
    this.host.sendQueued(send, frame.serverTimeMs);
    // A conversation without a cursor may have waited for this send's answer to start; a queued
    // send's seq comes only as its copy, which may never come here (see hasPendingSend): look again.
    this.ordering.sendSettled(frame.conversationId);
  }

  private onSent(frame: ServerFrameOf<'sent'>): void {
    const send = this.outbox.get(frame.conversationId, frame.clientMessageId);
    if (send) {
      this.outbox.remove(send);
      (this.heldAcks ??= new Set()).add(send);
      if (send.queued) this.releaseHeld(frame.conversationId);
    }
    // The history `ack` is recorded when the message takes its place in this device's order of
    // the conversation: at once, unless events before it have not arrived yet (a `sent` may
    // overtake an event with a lower seq), so the device's observations never go backwards.
    // Until then the send is held (see save()).
    const onObserved = send
      ? () => {
          this.heldAcks?.delete(send);
          const history = this.config.history;
          if (history) recordAck(history, this.host.clock.nowMs(), this.device, frame.conversationId, frame.clientMessageId, frame.seq);
        }
      : undefined;
    // Our own message occupies its seq in our view of the conversation (the server does not
    // echo it to this device); observing it keeps the gap logic from waiting for it.
    this.ordering.observe(frame.conversationId, frame.seq, undefined, 'live', onObserved);
    if (!send) return; // the answer to an attempt we already had an answer for
    this.host.sendAccepted(send, {
      conversationId: frame.conversationId,
      clientMessageId: frame.clientMessageId,
      seq: frame.seq,
      serverTimeMs: frame.serverTimeMs,
      duplicate: frame.duplicate,
    });
  }

  private onErrorFrame(frame: ServerFrameOf<'error'>): void {
    const error = ChatClientError.fromFrame(frame);
    if (this.stateValue === 'authenticating' && (frame.rid === undefined || frame.inReplyTo === 'auth')) {
      this.authFailed(error);
      return;
    }
    if (frame.rid !== undefined) {
      if (this.requestTable?.fail(frame.rid, error)) return;
      const send = this.outbox.getByRid(frame.rid);
      if (send) {
        this.sendFailed(send, error);
        return;
      }
    }
    // Unmatched: a rate-limit rejection (the server rejects before reading the rid), a failed
    // ack/read, or a late answer. Any send it concerns is re-sent by its timeout.
    this.host.error(error);
  }

  // ---------- OrderingSink (called by Ordering, not by apps) ----------

  deliver(event: ConversationEvent, via: Via): void {
    if (this.config.history) this.config.history.record(deliverRecord(this.host.clock.nowMs(), this.device, event, via));
    if (this.config.autoAck) this.queueAck(event.conversationId, event.seq);
    this.host.delivered(event, via);
  }

  /**
   * Ordering wants the events after afterSeq (or, fromLink, from this device's link point); pages
   * until the server says there are no more.
   */
  requestSync(conversationId: ConversationId, afterSeq: Seq, fromLink = false): boolean {
    if (this.stateValue !== 'connected') return false;
    const rid = this.nextRid();
    this.requests.add(
      rid,
      'sync_result',
      this.config.requestTimeoutMs,
      (frame) => this.onSyncPage(frame as ServerFrameOf<'sync_result'>, afterSeq),
      (error) => this.onSyncFailed(conversationId, error),
    );
    this.writeFrame(fromLink ? { type: 'sync', rid, conversationId, afterSeq, fromLink } : { type: 'sync', rid, conversationId, afterSeq });
    return true;
  }

  hasPendingSend(conversationId: ConversationId): boolean {
    return this.outbox.awaitsAnswer(conversationId);
  }

  // ---------- sync (gap repair and catch-up) ----------

  private onSyncPage(page: ServerFrameOf<'sync_result'>, afterSeq: Seq): void {
    this.observeFetched(page.events);
    // The app closed or suspended from a delivery of this page: the page is not the last word.
    if (this.stateValue !== 'connected') {
      this.ordering.syncFinished(page.conversationId, false);
      return;
    }
    const lastSeq = page.events[page.events.length - 1]?.seq;
    // An empty page with hasMore cannot make progress: treat it as the end rather than loop.
    if (page.hasMore && lastSeq !== undefined && lastSeq > afterSeq) {
      if (this.requestSync(page.conversationId, lastSeq)) return;
      this.ordering.syncFinished(page.conversationId, false);
      return;
    }
    this.ordering.syncFinished(page.conversationId, true);
  }

  private onSyncFailed(conversationId: ConversationId, error: ChatClientError): void {
    // Only the server's answer on a live connection can refuse a sync for good. One the client
    // ended itself (CLOSED by close() or a fatal close code, DISCONNECTED by a lost or suspended
    // connection) is no answer at all: what it holds stays held with its cursor unchanged, and the
    // sync stays wanted, asked again on the next connection. Taking CLOSED for a refusal handed a
    // closing client's held events to the app, which the device's next client then delivered
    // again; and it would skip a gap's missing events for good.
    const cutShort = this.stateValue !== 'connected' || error.code === 'CLOSED' || error.code === 'DISCONNECTED';
    if (error.retryable || cutShort) {
      // Timeout, STORAGE_UNAVAILABLE, ... (or DISCONNECTED: the reconnect resumes every sync).
      this.ordering.syncFinished(conversationId, false);
      if (!cutShort) this.scheduleSyncRetry(error.retryAfterMs ?? this.config.syncRetryDelayMs);
      return;
    }
    // Refused for good by the server (e.g. NOT_A_MEMBER after removal): hand over what is held.
    this.ordering.syncFinished(conversationId, true);
    this.flushAcks();
  }

  private scheduleSyncRetry(delayMs: number): void {
    if (this.syncRetryTimer) return;
    this.syncRetryTimer = this.host.clock.setTimer(delayMs, () => {
      this.syncRetryTimer = undefined;
      if (this.stateValue === 'connected') this.ordering.retryWanted();
    });
  }

  // ---------- requests ----------

  private get requests(): RequestTable {
    return (this.requestTable ??= new RequestTable(this.host.clock));
  }

  /**
   * Sends a frame with a rid; `onAnswer` gets the answer of type `expect`, `onError` the
   * rid-matched error frame, TIMEOUT, DISCONNECTED, or (at once) NOT_CONNECTED / CLOSED. Both run
   * synchronously while the answer is handled, so deliveries they cause keep frame order.
   */
  request<T extends ServerFrameType>(
    frame: ClientFrame & { rid: string },
    expect: T,
    onAnswer: (answer: ServerFrameOf<T>) => void,
    onError: (error: ChatClientError) => void,
  ): void {
    if (this.stateValue !== 'connected') {
      onError(
        this.stateValue === 'closed' ? closedError() : new ChatClientError('NOT_CONNECTED', `cannot send ${frame.type}: not connected`),
      );
      return;
    }
    this.requests.add(frame.rid, expect, this.config.requestTimeoutMs, onAnswer as (answer: ServerFrame) => void, onError);
    this.writeFrame(frame);
  }

  nextRid(): string {
    return (++this.ridCounter).toString(36);
  }

  // ---------- sending messages ----------

  /** A new pending send (not in the outbox yet: submit() it). */
  newSend(conversationId: ConversationId, bodyBase64: string, options: NewSendOptions = {}): PendingSend {
    return {
      rid: this.nextRid(),
      conversationId,
      clientMessageId: options.clientMessageId ?? this.newClientMessageId(),
      bodyBase64,
      media: options.media,
      mls: options.mls,
      createdAtMs: this.host.clock.nowMs(),
      attempt: 0,
      queued: false,
      timer: undefined,
    };
  }

  /**
   * Puts the send in the outbox and sends it now, or once connected; it is re-sent with the same
   * clientMessageId after every send timeout and every reconnect until the server answers.
   */
  submit(send: PendingSend): void {
    if (this.stateValue === 'closed') {
      this.host.sendFailed(send, closedError(), false);
      return;
    }
    this.outbox.add(send);
    if (this.stateValue === 'connected') this.transmit(send);
  }

  /** `${deviceId}-${counter}-${random}`: unique per device, and across restarts by the random part. */
  private newClientMessageId(): ClientMessageId {
    const prefix = this.device?.deviceId ?? this.config.deviceId ?? 'c';
    return `${prefix}-${++this.messageCounter}-${this.host.random.hex(6)}`;
  }

  private transmit(send: PendingSend): void {
    if (this.outbox.waitsBehindQueued(send, this.generation)) {
      send.timer?.cancel();
      send.timer = undefined;
      send.heldOnConnection = this.generation;
      return;
    }
    send.heldOnConnection = undefined;
    const text = encodeSendFrame(send, this.frameBytesMax);
    if (typeof text !== 'string') {
      this.outbox.remove(send);
      this.ordering.sendSettled(send.conversationId);
      this.host.sendFailed(send, text, false);
      return;
    }
    send.attempt++;
    if (this.config.history) recordSend(this.config.history, 'send', this.host.clock.nowMs(), this.device, send);
    this.host.writeFrame('send', text);
    // A message queued on this connection is durable on its server already. One queued on an
    // earlier connection is re-sent until answered here, since later sends wait for it.
    if (!send.queued || send.queuedOnConnection !== this.generation) this.retryLater(send, this.config.sendTimeoutMs);
  }

  /** Sends held back behind a queued send of the conversation (waitsBehindQueued) that may go now. */
  private releaseHeld(conversationId: ConversationId): void {
    if (this.stateValue !== 'connected') return;
    for (const send of this.outbox.values()) {
      if (send.conversationId === conversationId && send.heldOnConnection === this.generation) this.transmit(send);
    }
  }

  /** Re-sends after delayMs unless answered first; while offline, the reconnect re-sends instead. */
  private retryLater(send: PendingSend, delayMs: number): void {
    send.timer?.cancel();
    send.timer = this.host.clock.setTimer(delayMs, () => {
      send.timer = undefined;
      if (this.outbox.has(send) && this.stateValue === 'connected') this.transmit(send);
    });
  }

  private sendFailed(send: PendingSend, error: ChatClientError): void {
    if (!error.retryable) {
      this.outbox.remove(send);
      this.ordering.sendSettled(send.conversationId);
      this.host.sendFailed(send, error, false);
      if (send.queued) this.releaseHeld(send.conversationId);
      return;
    }
    // The server's hint is a floor; a send refused again and again backs off exponentially above
    // it, so a crowd of refused clients cannot turn an overload into a retry storm.
    const backoffMs = backoffDelayMs(
      send.attempt,
      this.config.reconnectMinDelayMs,
      this.config.sendRetryMaxDelayMs,
      this.host.random.nextFloat(),
    );
    const delayMs = Math.max(error.retryAfterMs ?? 0, backoffMs);
    this.retryLater(send, delayMs);
    this.host.sendRetrying(send, error, delayMs);
  }

  // ---------- acks and reads ----------

  private queueAck(conversationId: ConversationId, seq: Seq): void {
    let batch = this.ackBatch;
    if (!batch) {
      batch = this.ackBatch = new Map();
      if (this.config.acksPerInstant) {
        const fresh = batch;
        // A dropped connection or an earlier flush replaces the batch: then this timer does nothing.
        this.host.clock.setTimer(0, () => {
          if (this.ackBatch === fresh) this.flushAcks();
        });
      }
    }
    const previous = batch.get(conversationId);
    if (previous === undefined || seq > previous) batch.set(conversationId, seq);
  }

  /**
   * Acks are cumulative on the server (everything up to seq leaves the inbox), so one ack per
   * conversation per inbound frame (or per instant: acksPerInstant) suffices: a 500-event sync page costs one ack, not 500,
   * which keeps clients well inside the per-connection rate limit.
   */
  private flushAcks(): void {
    const batch = this.ackBatch;
    if (!batch) return;
    this.ackBatch = undefined;
    if (this.stateValue !== 'connected') return;
    for (const [conversationId, seq] of batch) this.writeFrame({ type: 'ack', conversationId, seq });
  }

  /** Acknowledges delivery up to seq (only needed without autoAck). Dropped when offline. */
  ack(conversationId: ConversationId, seq: Seq): void {
    if (this.stateValue === 'connected') this.writeFrame({ type: 'ack', conversationId, seq });
  }

  /** Marks the conversation read up to seq; kept and sent after the next welcome when offline. */
  markRead(conversationId: ConversationId, seq: Seq): void {
    if (this.stateValue === 'connected') {
      this.writeFrame({ type: 'read', conversationId, seq });
      return;
    }
    if (this.stateValue === 'closed') return;
    const reads = (this.pendingReads ??= new Map());
    reads.set(conversationId, Math.max(seq, reads.get(conversationId) ?? 0));
  }
}

export { closedError };

import type { HistoryEvent } from '../checker/history.js';
import type { ConversationEvent, MediaRef } from '../system/core/events.js';
import type { ClientMessageId, ConversationId, DeviceId, Seq, UserId } from '../system/core/ids.js';
import type { TimerHandle } from '../system/ports/clock.js';
import {
  serverFrameSchemas,
  type ClientFrame,
  type ClientFrameOf,
  type ServerFrame,
  type ServerFrameOf,
  type ServerFrameType,
} from '../system/protocol/frames.js';
import { CloseCodes, PROTOCOL_VERSION } from '../system/protocol/version.js';
import { backoffDelayMs } from './backoff.js';
import { Emitter } from './emitter.js';
import { bodyToBase64 } from './encoding.js';
import { ChatClientError, toChatClientError, type ChatClientErrorCode } from './errors.js';
import { deliverRecord } from './history-recorder.js';
import { Ordering, type Via } from './ordering.js';
import { resolveOptions, type ChatClientOptions, type ResolvedOptions } from './options.js';
import { Outbox, type PendingSend, type SendResult } from './outbox.js';
import { RequestTable } from './requests.js';
import type { ClientTransport } from './transport.js';

export type WelcomeInfo = ServerFrameOf<'welcome'>;
export type ReceiptInfo = ServerFrameOf<'receipt'>;
export type PresenceInfo = ServerFrameOf<'presence'>;
export type SyncPage = ServerFrameOf<'sync_result'>;
export type HistoryPage = ServerFrameOf<'history_result'>;
export type ConversationSummary = ServerFrameOf<'conversations_result'>['conversations'][number];
export type DeviceReceipts = ServerFrameOf<'receipts_result'>['devices'][number];
export type MediaUrl = ServerFrameOf<'media_url'>;
/** This device's KeyPackages in the MLS key directory. */
export type KeyPackageStatus = Omit<ServerFrameOf<'kp_status'>, 'type' | 'rid'>;
export type ClaimedKeyPackages = Omit<ServerFrameOf<'kp_claimed'>, 'type' | 'rid'>;
/** MLS metadata carried beside an opaque body (docs/e2ee.md). */
export type MlsMarker = NonNullable<ClientFrameOf<'send'>['mls']>;
export interface GroupChange {
  conversationId: ConversationId;
  /** Seq of the membership event the change produced. */
  seq: Seq;
}

/** The server's log started over: what the client kept per conversation was dropped. */
export interface ResetInfo {
  /** The incarnation the client knew (from an earlier welcome, or the `incarnation` option). */
  previousIncarnation: string;
  /** The incarnation of the log the client is connected to now. */
  incarnation: string;
  /**
   * The cursors dropped, per conversation: the app's copy of those conversations came from the old
   * log, whose seqs the new one reuses. Sends not yet acknowledged are kept and sent to the new log.
   */
  cursors: Record<ConversationId, Seq>;
}

export interface DisconnectInfo {
  code: number;
  reason: string;
  /** False when the client stopped for good (close(), or a fatal error). */
  willReconnect: boolean;
}

export type ChatClientEvents = {
  /** A conversation event, in seq order per conversation, each seq once. */
  event: (event: ConversationEvent, via: Via) => void;
  /** The server accepted one of this client's messages. */
  sent: (result: SendResult) => void;
  /**
   * The server could not store the message now and logged it durably (its write-ahead log): one
   * tick without a seq. `sent` follows once it is numbered; the send promise resolves then.
   */
  queued: (info: { conversationId: ConversationId; clientMessageId: ClientMessageId; serverTimeMs: number }) => void;
  receipt: (receipt: ReceiptInfo) => void;
  presence: (presence: PresenceInfo) => void;
  connected: (welcome: WelcomeInfo) => void;
  /**
   * The welcome named another server log incarnation than the one the client knew: the log was
   * reset (an embedded server restarted with empty stores). Cursors, held events, receipt
   * watermarks and pending reads were dropped, so events of the new log, from seq 1 again, are
   * delivered instead of being taken for duplicates. Emitted before `connected`.
   */
  reset: (info: ResetInfo) => void;
  disconnected: (info: DisconnectInfo) => void;
  /** Errors no promise is waiting for: failed connection attempts, unsolicited error frames. */
  error: (error: ChatClientError) => void;
  /**
   * The server refused a send for now (OVERLOADED, RATE_LIMITED, STORAGE_UNAVAILABLE, …): it stays
   * in the outbox and is sent again after `retryAfterMs`; its promise is still pending.
   */
  retrying: (info: { conversationId: ConversationId; clientMessageId: ClientMessageId; code: string; retryAfterMs: number }) => void;
};

export type ConnectionState = 'idle' | 'connecting' | 'authenticating' | 'connected' | 'reconnecting' | 'closed';

export interface SendOptions {
  /** The idempotency key; generated when absent. Re-using one after a restart is safe. */
  clientMessageId?: ClientMessageId;
  media?: MediaRef;
  /** MLS metadata of the body; a commit is accepted only in the conversation's current epoch. */
  mls?: MlsMarker;
}

/** Close codes after which reconnecting cannot help (someone else's decision, or our identity is gone). */
const FATAL_CLOSE_CODES: ReadonlyMap<number, ChatClientErrorCode> = new Map<number, ChatClientErrorCode>([
  [CloseCodes.AUTH_FAILED, 'TOKEN_INVALID'],
  [CloseCodes.DEVICE_UNLINKED, 'DEVICE_UNKNOWN'],
  [CloseCodes.REPLACED, 'CLOSED'],
]);

/**
 * A welcomed connection that ends sooner than this counts as a flap: the next reconnect backs off
 * further instead of starting over, so a node that accepts and then drops clients is not hammered.
 */
const STABLE_CONNECTION_MS = 10_000;

/** Default idle timeout, in heartbeat intervals (the server's own zombie timeout is 2.5). */
const IDLE_TIMEOUT_HEARTBEATS = 2.5;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/**
 * The reference client: one device's connection to the chat system, with everything a real app
 * needs to never lose, duplicate or reorder a message across reconnects:
 *
 * - connection management: auth handshake, heartbeats, dead-connection detection, reconnect with
 *   jittered exponential backoff across the gateway URLs, `goaway` handling;
 * - in-order, de-duplicated delivery per conversation (see Ordering), with gap repair by sync
 *   and catch-up from persisted cursors on every (re)connect;
 * - at-least-once sends made exactly-once by a stable clientMessageId, re-sent in order after
 *   reconnects until the server acknowledges or rejects them;
 * - rid-matched request/response helpers with timeouts;
 * - optional history recording for the invariant checker.
 *
 * Time, randomness and the transport are injected, so the same client runs on real sockets, in
 * the simulator's virtual time, and thousands to a process in the load driver.
 */
export class ChatClient extends Emitter<ChatClientEvents> {
  private readonly o: ResolvedOptions;
  private readonly ordering: Ordering;
  private readonly requests: RequestTable;
  private readonly outbox = new Outbox();
  /** Highest receipt watermark seen per (conversation, device, state): stale ones are dropped. */
  private readonly receiptWatermarks = new Map<string, number>();

  private stateValue: ConnectionState = 'idle';
  /** Bumped whenever the current connection is abandoned: callbacks of older ones are ignored. */
  private generation = 0;
  private transport: ClientTransport | undefined;
  private nextUrlIndex = 0;
  /** URLs a `goaway` pointed at, tried before resuming the round robin. */
  private redirectUrls: string[] | undefined;
  /** Consecutive failed connection attempts. */
  private failures = 0;
  /** Consecutive connections that ended before STABLE_CONNECTION_MS. */
  private flaps = 0;
  private connectedAtMs = 0;
  private welcomeFrame: WelcomeInfo | undefined;
  /** The server log incarnation the cursors belong to (last welcome's, or the option's). */
  private incarnationValue: string | undefined;
  private everConnected = false;
  private connectWaiter: Deferred<WelcomeInfo> | undefined;
  private connectTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private goawayTimer: TimerHandle | undefined;
  private syncRetryTimer: TimerHandle | undefined;
  private lastFrameAtMs = 0;
  /** Set by `goaway`: the next reconnect waits until then instead of backing off. */
  private reconnectNotBeforeMs: number | undefined;
  /** Acks gathered while handling one frame, sent (highest seq per conversation) at its end. */
  private ackBatch: Map<ConversationId, Seq> | undefined;
  private presenceSubscriptions: Set<UserId> | undefined;
  private pendingReads: Map<ConversationId, Seq> | undefined;
  private ridCounter = 0;
  private messageCounter = 0;

  constructor(options: ChatClientOptions) {
    super();
    this.o = resolveOptions(options);
    this.requests = new RequestTable(this.o.clock);
    this.ordering = new Ordering(
      {
        deliver: (event, via) => this.deliver(event, via),
        requestSync: (conversationId, afterSeq, fromLink) => this.requestSyncPage(conversationId, afterSeq, fromLink),
        hasPendingSend: (conversationId) => this.outbox.awaitsAnswer(conversationId),
      },
      options.cursors,
    );
    this.incarnationValue = options.incarnation;
  }

  // ---------- state ----------

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** The server's welcome of the current (or last) connection. */
  get welcome(): WelcomeInfo | undefined {
    return this.welcomeFrame;
  }

  get userId(): UserId | undefined {
    return this.welcomeFrame?.userId;
  }

  get deviceId(): DeviceId | undefined {
    return this.welcomeFrame?.deviceId;
  }

  /** Messages sent and not yet acknowledged by the server. */
  get pendingSendCount(): number {
    return this.outbox.size;
  }

  /**
   * The incarnation of the server log this client's cursors belong to (from the last welcome that
   * named one). Persist it with getCursors() and pass both back as options.
   */
  get incarnation(): string | undefined {
    return this.incarnationValue;
  }

  /** Highest seq observed in order, per conversation: persist it to resume after a restart. */
  getCursors(): Record<ConversationId, Seq> {
    return this.ordering.cursors();
  }

  getCursor(conversationId: ConversationId): Seq | undefined {
    return this.ordering.cursor(conversationId);
  }

  // ---------- connection lifecycle ----------

  /**
   * Connects and authenticates; resolves with the server's welcome. Failed attempts are retried
   * with backoff (emitting 'error') up to maxReconnectAttempts; the promise rejects on a fatal
   * auth error (TOKEN_INVALID, TOKEN_EXPIRED, DEVICE_UNKNOWN, UNSUPPORTED_VERSION, ...), when
   * attempts run out, or on close(). Calling it again while connecting returns the same promise.
   */
  connect(): Promise<WelcomeInfo> {
    if (this.stateValue === 'closed') return Promise.reject(closedError());
    if (this.stateValue === 'connected' && this.welcomeFrame) return Promise.resolve(this.welcomeFrame);
    this.connectWaiter ??= deferred<WelcomeInfo>();
    if (this.stateValue === 'idle') this.startAttempt();
    return this.connectWaiter.promise;
  }

  /**
   * Stops for good: closes the connection, cancels every timer, stops reconnecting, and rejects
   * pending sends and requests with CLOSED. A closed client cannot be reconnected; construct a
   * new one (with getCursors()) instead.
   */
  close(): void {
    this.terminate(closedError(), false);
  }

  private startAttempt(): void {
    const generation = ++this.generation;
    this.stateValue = 'connecting';
    this.connectTimer = this.o.clock.setTimer(this.o.connectTimeoutMs, () => {
      this.connectTimer = undefined;
      if (generation !== this.generation) return;
      this.attemptFailed(new ChatClientError('TIMEOUT', `no welcome within ${this.o.connectTimeoutMs} ms`));
    });
    void this.runAttempt(generation);
  }

  private async runAttempt(generation: number): Promise<void> {
    try {
      const token = typeof this.o.token === 'string' ? this.o.token : await this.o.token();
      if (generation !== this.generation) return;
      const transport = this.o.transportFactory();
      this.transport = transport;
      transport.onMessage((text) => {
        if (generation === this.generation) this.handleText(text);
      });
      transport.onClose((code, reason) => {
        if (generation === this.generation) this.handleTransportClose(code, reason);
      });
      await transport.open(this.nextUrl());
      // Abandoned while opening (close(), timeout): dropConnection() already closed it.
      if (generation !== this.generation) return;
      this.stateValue = 'authenticating';
      transport.send(JSON.stringify({ type: 'auth', v: PROTOCOL_VERSION, token } satisfies ClientFrame));
    } catch (error) {
      if (generation === this.generation) this.attemptFailed(toChatClientError(error, 'CONNECT_FAILED'));
    }
  }

  /** Round robin over the configured URLs, after any a `goaway` suggested. */
  private nextUrl(): string {
    const redirected = this.redirectUrls?.shift();
    if (this.redirectUrls?.length === 0) this.redirectUrls = undefined;
    if (redirected !== undefined) return redirected;
    const url = this.o.urls[this.nextUrlIndex % this.o.urls.length]!;
    this.nextUrlIndex = (this.nextUrlIndex + 1) % this.o.urls.length;
    return url;
  }

  private onWelcome(frame: WelcomeInfo): void {
    if (this.stateValue !== 'authenticating') return;
    this.connectTimer?.cancel();
    this.connectTimer = undefined;
    this.welcomeFrame = frame;
    this.stateValue = 'connected';
    this.failures = 0;
    this.connectedAtMs = this.o.clock.nowMs();
    this.lastFrameAtMs = this.connectedAtMs;
    if (!this.everConnected) {
      this.everConnected = true;
      this.record({ type: 'device', atMs: this.o.clock.nowMs(), userId: frame.userId, deviceId: frame.deviceId });
    }
    this.record({ type: 'connect', atMs: this.o.clock.nowMs(), userId: frame.userId, deviceId: frame.deviceId });
    this.armHeartbeat();
    const reset = this.noteIncarnation(frame.incarnation);

    // Restore what the server keeps per connection, then catch up. Sends go first, in their
    // original order: they are what the user is waiting for.
    if (this.presenceSubscriptions?.size) {
      this.sendFrame({ type: 'presence_subscribe', userIds: [...this.presenceSubscriptions] });
    }
    if (this.pendingReads) {
      for (const [conversationId, seq] of this.pendingReads) this.sendFrame({ type: 'read', conversationId, seq });
      this.pendingReads = undefined;
    }
    for (const send of this.outbox.values()) this.transmit(send);
    this.ordering.resumeAll();

    if (reset) this.emit('reset', reset);
    const waiter = this.connectWaiter;
    this.connectWaiter = undefined;
    waiter?.resolve(frame);
    this.emit('connected', frame);
  }

  /**
   * Remembers the welcome's log incarnation. Another one than the client knew means the server's
   * log started over: its seqs restart at 1 and it has forgotten every acknowledged send, so what
   * the client keeps about the old log is dropped (see the 'reset' event). A welcome without one
   * (an older server) changes nothing.
   */
  private noteIncarnation(incarnation: string | undefined): ResetInfo | undefined {
    if (incarnation === undefined) return undefined;
    const previousIncarnation = this.incarnationValue;
    this.incarnationValue = incarnation;
    if (previousIncarnation === undefined || previousIncarnation === incarnation) return undefined;
    const cursors = this.ordering.reset();
    this.outbox.forgetServerState();
    this.receiptWatermarks.clear();
    this.pendingReads = undefined;
    return { previousIncarnation, incarnation, cursors };
  }

  /** A connection attempt (open or auth) failed: back off and try the next URL. */
  private attemptFailed(error: ChatClientError): void {
    this.dropConnection();
    this.failures++;
    if (this.failures >= this.o.maxReconnectAttempts) {
      this.terminate(
        new ChatClientError('CONNECT_FAILED', `gave up after ${this.failures} attempts: ${error.message}`, {
          retryable: false,
          cause: error,
        }),
        true,
      );
      return;
    }
    this.emit('error', error);
    if (this.isClosed()) return;
    this.scheduleReconnect();
  }

  /** The server refused our auth frame. */
  private authFailed(error: ChatClientError): void {
    // A long-lived client's token expires; the provider hands out a fresh one on the next
    // attempt. On the very first connect an expired token is the caller's bug: report it.
    const refreshable = error.code === 'TOKEN_EXPIRED' && typeof this.o.token === 'function' && this.everConnected;
    if (error.retryable || refreshable) this.attemptFailed(error);
    else this.terminate(error, true);
  }

  private handleTransportClose(code: number, reason: string): void {
    if (this.stateValue === 'connected') {
      this.connectionLost(code, reason);
      return;
    }
    const fatal = FATAL_CLOSE_CODES.get(code);
    if (fatal) {
      this.terminate(new ChatClientError(fatal, `connection closed during connect: ${code} ${reason}`, { retryable: false }), true);
      return;
    }
    this.attemptFailed(new ChatClientError('CONNECT_FAILED', `connection closed during connect: ${code} ${reason}`));
  }

  /** An established connection ended (server close, network, idle timeout, goaway). */
  private connectionLost(code: number, reason: string): void {
    this.dropConnection();
    this.stateValue = 'reconnecting';
    this.flaps = this.o.clock.nowMs() - this.connectedAtMs < STABLE_CONNECTION_MS ? this.flaps + 1 : 0;
    const fatal = FATAL_CLOSE_CODES.get(code);
    this.noteDisconnected(code, reason, fatal === undefined);
    if (this.isClosed()) return;
    if (fatal) {
      this.terminate(new ChatClientError(fatal, `connection closed: ${code} ${reason}`, { retryable: false }), true);
      return;
    }
    this.scheduleReconnect();
  }

  /** Bookkeeping when a welcomed connection ends. */
  private noteDisconnected(code: number, reason: string, willReconnect: boolean): void {
    const welcome = this.welcomeFrame;
    if (welcome) this.record({ type: 'disconnect', atMs: this.o.clock.nowMs(), userId: welcome.userId, deviceId: welcome.deviceId });
    // Answers to requests sent on the lost connection will never come. Requests are not
    // replayed (a group change is not idempotent); sends are, from the outbox.
    this.requests.failAll(new ChatClientError('DISCONNECTED', `connection lost (${code} ${reason})`));
    this.outbox.cancelTimers();
    this.ordering.resetInFlight();
    this.syncRetryTimer?.cancel();
    this.syncRetryTimer = undefined;
    this.emit('disconnected', { code, reason, willReconnect });
  }

  private scheduleReconnect(): void {
    this.stateValue = 'reconnecting';
    let delayMs: number;
    if (this.reconnectNotBeforeMs !== undefined) {
      delayMs = Math.max(0, this.reconnectNotBeforeMs - this.o.clock.nowMs());
      this.reconnectNotBeforeMs = undefined;
    } else {
      delayMs = backoffDelayMs(
        this.failures + this.flaps,
        this.o.reconnectMinDelayMs,
        this.o.reconnectMaxDelayMs,
        this.o.random.nextFloat(),
      );
    }
    this.reconnectTimer?.cancel();
    this.reconnectTimer = this.o.clock.setTimer(delayMs, () => {
      this.reconnectTimer = undefined;
      if (this.stateValue === 'reconnecting') this.startAttempt();
    });
  }

  /** Abandons the current transport (if any) and its timers; state is the caller's business. */
  private dropConnection(code = 1000, reason = ''): void {
    this.generation++;
    this.connectTimer?.cancel();
    this.connectTimer = undefined;
    this.heartbeatTimer?.cancel();
    this.heartbeatTimer = undefined;
    this.goawayTimer?.cancel();
    this.goawayTimer = undefined;
    this.ackBatch = undefined;
    const transport = this.transport;
    this.transport = undefined;
    if (transport) {
      try {
        transport.close(code, reason);
      } catch {
        // Already closed, or broken: either way it is gone.
      }
    }
  }

  /** Stops for good. emitError: also report `error` as an 'error' event (not for close()). */
  private terminate(error: ChatClientError, emitError: boolean): void {
    if (this.stateValue === 'closed') return;
    const wasConnected = this.stateValue === 'connected';
    this.stateValue = 'closed';
    this.dropConnection(1000, 'client closed');
    this.reconnectTimer?.cancel();
    this.reconnectTimer = undefined;
    this.syncRetryTimer?.cancel();
    this.syncRetryTimer = undefined;
    // Stopping is deliberate (close()) or reported as 'error': abandoned sends and a pending
    // connect() must not also crash a fire-and-forget caller as unhandled rejections.
    this.requests.failAll(error);
    this.outbox.rejectAll(error, true);
    const waiter = this.connectWaiter;
    this.connectWaiter = undefined;
    if (waiter) {
      waiter.promise.catch(ignore);
      waiter.reject(error);
    }
    if (wasConnected) this.noteDisconnected(1000, error.message, false);
    if (emitError) this.emit('error', error);
  }

  private isClosed(): boolean {
    return this.stateValue === 'closed';
  }

  // ---------- heartbeat and liveness ----------

  private armHeartbeat(): void {
    const intervalMs = this.welcomeFrame?.heartbeatIntervalMs ?? 0;
    if (!(intervalMs > 0)) return;
    const generation = this.generation;
    this.heartbeatTimer = this.o.clock.setTimer(intervalMs, () => {
      this.heartbeatTimer = undefined;
      if (generation !== this.generation || this.stateValue !== 'connected') return;
      // The server answers every heartbeat, so silence means the path is dead even if TCP has
      // not noticed (a partition): reconnect rather than wait for the OS.
      const idleMs = this.o.idleTimeoutMs ?? intervalMs * IDLE_TIMEOUT_HEARTBEATS;
      if (idleMs > 0 && this.o.clock.nowMs() - this.lastFrameAtMs >= idleMs) {
        this.connectionLost(CloseCodes.HEARTBEAT_TIMEOUT, 'no frame from the server');
        return;
      }
      this.sendFrame({ type: 'heartbeat' });
      this.armHeartbeat();
    });
  }

  private onGoaway(frame: ServerFrameOf<'goaway'>): void {
    if (frame.reason === 'device_unlinked') {
      // The server closes with DEVICE_UNLINKED right after; reconnecting would only be refused.
      this.terminate(new ChatClientError('DEVICE_UNKNOWN', 'this device was unlinked', { retryable: false }), true);
      return;
    }
    if (frame.urls && frame.urls.length > 0) this.redirectUrls = [...frame.urls];
    const delayMs = Math.max(0, frame.reconnectAfterMs);
    this.reconnectNotBeforeMs = this.o.clock.nowMs() + delayMs;
    // Keep using this connection while the node drains; move when the hint says (or earlier,
    // if the node closes first — then the reconnect still waits for the hint).
    const generation = this.generation;
    this.goawayTimer?.cancel();
    this.goawayTimer = this.o.clock.setTimer(delayMs, () => {
      this.goawayTimer = undefined;
      if (generation === this.generation && this.stateValue === 'connected') {
        this.connectionLost(CloseCodes.GOING_AWAY, `goaway: ${frame.reason}`);
      }
    });
  }

  // ---------- inbound frames ----------

  private handleText(text: string): void {
    this.lastFrameAtMs = this.o.clock.nowMs();
    const frame = this.decode(text);
    if (!frame) return;
    try {
      this.dispatch(frame);
    } finally {
      this.flushAcks();
    }
  }

  private decode(text: string): ServerFrame | undefined {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.emit('error', new ChatClientError('PROTOCOL_ERROR', 'server frame is not JSON'));
      return undefined;
    }
    if (typeof raw !== 'object' || raw === null) {
      this.emit('error', new ChatClientError('PROTOCOL_ERROR', 'server frame is not an object'));
      return undefined;
    }
    const type = (raw as { type?: unknown }).type;
    // Unknown types are ignored: adding a frame type is a compatible protocol change.
    if (typeof type !== 'string' || !Object.hasOwn(serverFrameSchemas, type)) return undefined;
    if (!this.o.validateFrames) return raw as ServerFrame;
    const result = serverFrameSchemas[type as ServerFrameType].safeParse(raw);
    if (result.success) return result.data as ServerFrame;
    const issue = result.error.issues[0];
    const error = new ChatClientError(
      'PROTOCOL_ERROR',
      `invalid ${type} frame: ${issue?.path.join('.') || '(frame)'}: ${issue?.message ?? 'invalid'}`,
    );
    const rid = (raw as { rid?: unknown }).rid;
    if (typeof rid === 'string' && this.requests.fail(rid, error)) return undefined;
    this.emit('error', error);
    return undefined;
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
        this.onReceipt(frame);
        return;
      case 'presence':
        this.onPresence(frame);
        return;
      case 'error':
        this.onErrorFrame(frame);
        return;
      case 'goaway':
        this.onGoaway(frame);
        return;
      case 'heartbeat_ack':
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
        this.requests.settle(frame.rid, frame);
        return;
    }
  }

  /** pushed: the event came in an `event` frame (live, or replayed from the inbox: `queued`). */
  private onEvent(event: ConversationEvent, via: Via, pushed = false): void {
    if (this.isOwnPendingMessage(event)) {
      // A message of ours still in the outbox comes back numbered: that is its ack. A queued one
      // (write-ahead log) usually pushed, as the replay fans it out to the sender too; by sync when
      // this device had already acknowledged later events, so the replay's fan-out passed it by.
      // One whose answer was lost (its fan-out failed after the append) by sync: without taking
      // it as the ack, a re-send queued by a store outage would wait for a copy the replay's
      // fan-out passes by (this device acknowledged the seq already), unacknowledged for good.
      // Not queued: an earlier attempt was stored and its answer lost, so this answer is a duplicate's.
      const duplicate = this.outbox.get(event.conversationId, event.clientMessageId)?.queued !== true;
      this.onSent({ type: 'sent', conversationId: event.conversationId, clientMessageId: event.clientMessageId, seq: event.seq, serverTimeMs: event.serverTimeMs, duplicate });
      // A pushed copy also sits in this device's inbox.
      if (pushed && this.o.autoAck) this.ackInOrder(event.conversationId, event.seq);
      return;
    }
    const outcome = this.ordering.observe(event.conversationId, event.seq, event, via);
    // A pushed duplicate means the server still thinks we lack it (inbox redelivery after a
    // reconnect, or a push that raced a sync): ack again so it leaves the inbox.
    if (outcome === 'duplicate' && pushed && this.o.autoAck) this.ackInOrder(event.conversationId, event.seq);
  }

  /** Acks a pushed copy as far as it is in order (Ordering.ackableThrough). */
  private ackInOrder(conversationId: ConversationId, seq: Seq): void {
    const through = this.ordering.ackableThrough(conversationId, seq);
    if (through > 0) this.queueAck(conversationId, through);
  }

  private deliver(event: ConversationEvent, via: Via): void {
    if (this.o.history) this.record(deliverRecord(this.o.clock.nowMs(), this.welcomeFrame, event, via));
    if (this.o.autoAck) this.queueAck(event.conversationId, event.seq);
    this.emit('event', event, via);
  }

  private isOwnPendingMessage(event: ConversationEvent): event is Extract<ConversationEvent, { kind: 'message' }> {
    const welcome = this.welcomeFrame;
    if (event.kind !== 'message' || !welcome) return false;
    if (event.senderUserId !== welcome.userId || event.senderDeviceId !== welcome.deviceId) return false;
    return this.outbox.get(event.conversationId, event.clientMessageId) !== undefined;
  }

  private onQueued(frame: ServerFrameOf<'queued'>): void {
    const send = this.outbox.get(frame.conversationId, frame.clientMessageId);
    if (!send || send.queued) return; // already known to be queued (a repeated answer)
    send.queued = true;
    // Durable on the server: no timer re-sends; a reconnect still does (see PendingSend.queued).
    send.timer?.cancel();
    send.timer = undefined;
    this.recordFromDevice({
      type: 'queued',
      conversationId: frame.conversationId,
      clientMessageId: frame.clientMessageId,
    });
    this.emit('queued', { conversationId: frame.conversationId, clientMessageId: frame.clientMessageId, serverTimeMs: frame.serverTimeMs });
  }

  private onSent(frame: ServerFrameOf<'sent'>): void {
    const send = this.outbox.get(frame.conversationId, frame.clientMessageId);
    if (send) this.outbox.remove(send);
    // The history `ack` is recorded when the message takes its place in this device's order of
    // the conversation: at once, unless events before it have not arrived yet (a `sent` may
    // overtake an event with a lower seq), so the device's observations never go backwards.
    const recordAck = send
      ? () =>
          this.recordFromDevice({
            type: 'ack',
            conversationId: frame.conversationId,
            clientMessageId: frame.clientMessageId,
            seq: frame.seq,
          })
      : undefined;
    // Our own message occupies its seq in our view of the conversation (the server does not
    // echo it to this device); observing it keeps the gap logic from waiting for it.
    this.ordering.observe(frame.conversationId, frame.seq, undefined, 'live', recordAck);
    if (!send) return; // the answer to an attempt we already had an answer for
    const result: SendResult = {
      conversationId: frame.conversationId,
      clientMessageId: frame.clientMessageId,
      seq: frame.seq,
      serverTimeMs: frame.serverTimeMs,
      duplicate: frame.duplicate,
    };
    this.emit('sent', result);
    send.resolve(result);
  }

  private onReceipt(frame: ReceiptInfo): void {
    // Watermarks are cumulative: one at or below what this client already has is stale (two
    // gateways announced raises out of order, e.g. one that was paused) and says nothing new.
    const key = `${frame.conversationId} ${frame.userId} ${frame.deviceId} ${frame.state}`;
    if ((this.receiptWatermarks.get(key) ?? 0) >= frame.upToSeq) return;
    this.receiptWatermarks.set(key, frame.upToSeq);
    this.recordFromDevice({
      type: 'receipt',
      conversationId: frame.conversationId,
      state: frame.state,
      upToSeq: frame.upToSeq,
      byUserId: frame.userId,
      byDeviceId: frame.deviceId,
    });
    this.emit('receipt', frame);
  }

  private onPresence(frame: PresenceInfo): void {
    this.recordFromDevice({
      type: 'presence',
      subjectUserId: frame.userId,
      online: frame.online,
    });
    this.emit('presence', frame);
  }

  private onErrorFrame(frame: ServerFrameOf<'error'>): void {
    const error = ChatClientError.fromFrame(frame);
    if (this.stateValue === 'authenticating' && (frame.rid === undefined || frame.inReplyTo === 'auth')) {
      this.authFailed(error);
      return;
    }
    if (frame.rid !== undefined) {
      if (this.requests.fail(frame.rid, error)) return;
      const send = this.outbox.getByRid(frame.rid);
      if (send) {
        this.sendFailed(send, error);
        return;
      }
    }
    // Unmatched: a rate-limit rejection (the server rejects before reading the rid), a failed
    // ack/read, or a late answer. Any send it concerns is re-sent by its timeout.
    this.emit('error', error);
  }

  // ---------- acks and reads ----------

  private queueAck(conversationId: ConversationId, seq: Seq): void {
    const batch = (this.ackBatch ??= new Map());
    const previous = batch.get(conversationId);
    if (previous === undefined || seq > previous) batch.set(conversationId, seq);
  }

  /**
   * Acks are cumulative on the server (everything up to seq leaves the inbox), so one ack per
   * conversation per inbound frame suffices: a 500-event sync page costs one ack, not 500,
   * which keeps clients well inside the per-connection rate limit.
   */
  private flushAcks(): void {
    const batch = this.ackBatch;
    if (!batch) return;
    this.ackBatch = undefined;
    if (this.stateValue !== 'connected') return;
    for (const [conversationId, seq] of batch) this.sendFrame({ type: 'ack', conversationId, seq });
  }

  /** Acknowledges delivery up to seq (only needed with autoAck: false). Dropped when offline. */
  ack(conversationId: ConversationId, seq: Seq): void {
    if (this.stateValue === 'connected') this.sendFrame({ type: 'ack', conversationId, seq });
  }

  /** Marks the conversation read up to seq; kept and sent on reconnect when offline. */
  markRead(conversationId: ConversationId, seq: Seq): void {
    if (this.stateValue === 'connected') {
      this.sendFrame({ type: 'read', conversationId, seq });
      return;
    }
    if (this.isClosed()) return;
    const reads = (this.pendingReads ??= new Map());
    reads.set(conversationId, Math.max(seq, reads.get(conversationId) ?? 0));
  }

  // ---------- sending messages ----------

  /**
   * Sends a message. Resolves when the server has stored it (with its seq); until then it is
   * re-sent with the same clientMessageId after every send timeout and every reconnect, so it
   * is stored exactly once. Rejects on a non-retryable error frame (NOT_A_MEMBER,
   * MESSAGE_TOO_LARGE, IDEMPOTENCY_CONFLICT, ...) or on close(). Works while disconnected: the
   * message goes out when the connection is (re)established.
   */
  send(conversationId: ConversationId, body: Uint8Array | string, options: SendOptions = {}): Promise<SendResult> {
    if (this.isClosed()) return Promise.reject(closedError());
    const clientMessageId = options.clientMessageId ?? this.newClientMessageId();
    const existing = this.outbox.get(conversationId, clientMessageId);
    if (existing) return existing.promise;
    const waiter = deferred<SendResult>();
    const send: PendingSend = {
      rid: this.nextRid(),
      conversationId,
      clientMessageId,
      bodyBase64: bodyToBase64(body),
      media: options.media,
      mls: options.mls,
      attempt: 0,
      timer: undefined,
      promise: waiter.promise,
      resolve: waiter.resolve,
      reject: waiter.reject,
    };
    this.outbox.add(send);
    if (this.stateValue === 'connected') this.transmit(send);
    return waiter.promise;
  }

  /** `${deviceId}-${counter}-${random}`: unique per device, and across restarts by the random part. */
  private newClientMessageId(): ClientMessageId {
    const prefix = this.welcomeFrame?.deviceId ?? this.o.deviceId ?? 'c';
    return `${prefix}-${++this.messageCounter}-${this.o.random.hex(6)}`;
  }

  private transmit(send: PendingSend): void {
    const frame: ClientFrameOf<'send'> = {
      type: 'send',
      rid: send.rid,
      conversationId: send.conversationId,
      clientMessageId: send.clientMessageId,
      body: send.bodyBase64,
    };
    if (send.media) frame.media = send.media;
    if (send.mls) frame.mls = send.mls;
    const text = JSON.stringify(frame);
    // The server rejects an oversized frame before reading its rid, so that error could not
    // be matched to this send, which would then be re-sent forever: refuse it here instead.
    const frameBytesMax = this.welcomeFrame?.limits.frameBytesMax;
    // (UTF-8 is at most 3 bytes per UTF-16 unit: only count bytes when it could matter.)
    if (typeof frameBytesMax === 'number' && text.length * 3 > frameBytesMax && Buffer.byteLength(text) > frameBytesMax) {
      this.outbox.remove(send);
      this.ordering.sendSettled(send.conversationId);
      send.reject(
        new ChatClientError('FRAME_TOO_LARGE', `send frame is ${Buffer.byteLength(text)} bytes; frameBytesMax is ${frameBytesMax}`, {
          retryable: false,
        }),
      );
      return;
    }
    send.attempt++;
    this.recordFromDevice({
      type: 'send',
      conversationId: send.conversationId,
      clientMessageId: send.clientMessageId,
      attempt: send.attempt,
    });
    this.transport?.send(text);
    // A queued message is durable on a server already: this re-send only puts it ahead of newer ones.
    if (!send.queued) this.retryLater(send, this.o.sendTimeoutMs);
  }

  /** Re-sends after delayMs unless acknowledged first; while offline, reconnect re-sends instead. */
  private retryLater(send: PendingSend, delayMs: number): void {
    send.timer?.cancel();
    send.timer = this.o.clock.setTimer(delayMs, () => {
      send.timer = undefined;
      if (this.outbox.has(send) && this.stateValue === 'connected') this.transmit(send);
    });
  }

  private sendFailed(send: PendingSend, error: ChatClientError): void {
    if (!error.retryable) {
      this.outbox.remove(send);
      this.ordering.sendSettled(send.conversationId);
      send.reject(error);
      return;
    }
    // The server's hint is a floor; a send refused again and again backs off exponentially above
    // it, so a crowd of refused clients cannot turn an overload into a retry storm.
    const backoffMs = backoffDelayMs(send.attempt, this.o.reconnectMinDelayMs, this.o.sendRetryMaxDelayMs, this.o.random.nextFloat());
    const delayMs = Math.max(error.retryAfterMs ?? 0, backoffMs);
    this.retryLater(send, delayMs);
    this.emit('retrying', { conversationId: send.conversationId, clientMessageId: send.clientMessageId, code: error.code, retryAfterMs: delayMs });
  }

  // ---------- sync (gap repair and catch-up) ----------

  /**
   * Ordering wants the events after afterSeq (or, fromLink, from this device's link point); pages
   * until the server says there are no more.
   */
  private requestSyncPage(conversationId: ConversationId, afterSeq: Seq, fromLink = false): boolean {
    if (this.stateValue !== 'connected') return false;
    const rid = this.nextRid();
    this.requests.add(
      rid,
      'sync_result',
      this.o.requestTimeoutMs,
      (frame) => this.onSyncPage(frame as SyncPage, afterSeq),
      (error) => this.onSyncFailed(conversationId, error),
    );
    this.sendFrame(fromLink ? { type: 'sync', rid, conversationId, afterSeq, fromLink } : { type: 'sync', rid, conversationId, afterSeq });
    return true;
  }

  private onSyncPage(page: SyncPage, afterSeq: Seq): void {
    for (const event of page.events) this.onEvent(event, 'sync');
    const lastSeq = page.events[page.events.length - 1]?.seq;
    // An empty page with hasMore cannot make progress: treat it as the end rather than loop.
    if (page.hasMore && lastSeq !== undefined && lastSeq > afterSeq) {
      if (this.requestSyncPage(page.conversationId, lastSeq)) return;
      this.ordering.syncFinished(page.conversationId, false);
      return;
    }
    this.ordering.syncFinished(page.conversationId, true);
  }

  private onSyncFailed(conversationId: ConversationId, error: ChatClientError): void {
    if (error.retryable) {
      // Timeout, STORAGE_UNAVAILABLE, ... (or DISCONNECTED: the reconnect resumes every sync).
      this.ordering.syncFinished(conversationId, false);
      if (error.code !== 'DISCONNECTED' && this.stateValue === 'connected') {
        this.scheduleSyncRetry(error.retryAfterMs ?? this.o.syncRetryDelayMs);
      }
      return;
    }
    // Refused for good (e.g. NOT_A_MEMBER after removal): hand over what is held.
    this.ordering.syncFinished(conversationId, true);
    this.flushAcks();
  }

  private scheduleSyncRetry(delayMs: number): void {
    if (this.syncRetryTimer) return;
    this.syncRetryTimer = this.o.clock.setTimer(delayMs, () => {
      this.syncRetryTimer = undefined;
      if (this.stateValue === 'connected') this.ordering.retryWanted();
    });
  }

  // ---------- requests ----------

  /**
   * Fetches events after afterSeq (default: this client's cursor). New events are also handed
   * to the app through the ordering path, like any other sync.
   */
  sync(conversationId: ConversationId, afterSeq?: Seq, limit?: number): Promise<SyncPage> {
    const rid = this.nextRid();
    const frame: ClientFrameOf<'sync'> = {
      type: 'sync',
      rid,
      conversationId,
      afterSeq: afterSeq ?? this.ordering.cursor(conversationId) ?? 0,
    };
    if (limit !== undefined) frame.limit = limit;
    return this.request(frame, 'sync_result', (page) => {
      for (const event of page.events) this.onEvent(event, 'sync');
    });
  }

  /**
   * A page of older events (ascending), before beforeSeq (default: the newest). Events the app
   * has not seen yet are handed to it through the ordering path as well.
   */
  history(conversationId: ConversationId, options: { beforeSeq?: Seq; limit?: number } = {}): Promise<HistoryPage> {
    const frame: ClientFrameOf<'history'> = { type: 'history', rid: this.nextRid(), conversationId };
    if (options.beforeSeq !== undefined) frame.beforeSeq = options.beforeSeq;
    if (options.limit !== undefined) frame.limit = options.limit;
    return this.request(frame, 'history_result', (page) => {
      const ascending = [...page.events].sort((a, b) => a.seq - b.seq);
      for (const event of ascending) this.onEvent(event, 'sync');
    });
  }

  async conversations(): Promise<ConversationSummary[]> {
    const frame = await this.request({ type: 'conversations', rid: this.nextRid() }, 'conversations_result');
    return frame.conversations;
  }

  async receipts(conversationId: ConversationId): Promise<DeviceReceipts[]> {
    const frame = await this.request({ type: 'receipts', rid: this.nextRid(), conversationId }, 'receipts_result');
    return frame.devices;
  }

  createGroup(name: string, members: UserId[]): Promise<GroupChange> {
    return this.groupRequest({ type: 'group_create', rid: this.nextRid(), name, members });
  }

  addMembers(conversationId: ConversationId, userIds: UserId[]): Promise<GroupChange> {
    return this.groupRequest({ type: 'group_add', rid: this.nextRid(), conversationId, userIds });
  }

  removeMember(conversationId: ConversationId, userId: UserId): Promise<GroupChange> {
    return this.groupRequest({ type: 'group_remove', rid: this.nextRid(), conversationId, userId });
  }

  leaveGroup(conversationId: ConversationId): Promise<GroupChange> {
    return this.groupRequest({ type: 'group_leave', rid: this.nextRid(), conversationId });
  }

  setAdmin(conversationId: ConversationId, userId: UserId, admin: boolean): Promise<GroupChange> {
    return this.groupRequest({ type: 'group_admin', rid: this.nextRid(), conversationId, userId, admin });
  }

  /** Watches users' presence; the subscription is renewed on every reconnect. */
  async subscribePresence(userIds: UserId[]): Promise<void> {
    await this.request({ type: 'presence_subscribe', rid: this.nextRid(), userIds }, 'ok');
    const subscriptions = (this.presenceSubscriptions ??= new Set());
    for (const userId of userIds) subscriptions.add(userId);
  }

  async unsubscribePresence(userIds: UserId[]): Promise<void> {
    for (const userId of userIds) this.presenceSubscriptions?.delete(userId);
    await this.request({ type: 'presence_unsubscribe', rid: this.nextRid(), userIds }, 'ok');
  }

  /** Registers (or, with null, removes) this device's push token. */
  async setPushToken(token: string | null): Promise<void> {
    await this.request({ type: 'push_token', rid: this.nextRid(), token }, 'ok');
  }

  async unlinkDevice(deviceId: DeviceId): Promise<void> {
    await this.request({ type: 'device_unlink', rid: this.nextRid(), deviceId }, 'ok');
  }

  /**
   * A signed URL to PUT media into the conversation: it takes only the bytes whose SHA-256
   * (base64) is `sha256`, once (see uploadMedia in media.ts, which computes it).
   */
  requestUpload(conversationId: ConversationId, sizeBytes: number, contentType: string, sha256: string): Promise<MediaUrl> {
    return this.request({ type: 'media_upload', rid: this.nextRid(), conversationId, sizeBytes, contentType, sha256 }, 'media_url');
  }

  /** A signed URL to GET media of the conversation (see downloadMedia in media.ts). */
  requestDownload(conversationId: ConversationId, objectKey: string): Promise<MediaUrl> {
    return this.request({ type: 'media_download', rid: this.nextRid(), conversationId, objectKey }, 'media_url');
  }

  /** Uploads this device's MLS KeyPackages (encoded, base64) to the key directory. */
  async uploadKeyPackages(keyPackages: string[], lastResort?: string): Promise<KeyPackageStatus> {
    const frame: ClientFrameOf<'kp_upload'> = { type: 'kp_upload', rid: this.nextRid(), keyPackages };
    if (lastResort !== undefined) frame.lastResort = lastResort;
    const { available, lastResort: hasLastResort } = await this.request(frame, 'kp_status');
    return { available, lastResort: hasLastResort };
  }

  /** How many of this device's single-use KeyPackages are unclaimed. */
  async countKeyPackages(): Promise<KeyPackageStatus> {
    const { available, lastResort } = await this.request({ type: 'kp_count', rid: this.nextRid() }, 'kp_status');
    return { available, lastResort };
  }

  /** Claims one KeyPackage per device of each user, skipping `exceptDevices` and this device. */
  async claimKeyPackages(userIds: UserId[], exceptDevices?: Array<{ userId: UserId; deviceId: DeviceId }>): Promise<ClaimedKeyPackages> {
    const frame: ClientFrameOf<'kp_claim'> = { type: 'kp_claim', rid: this.nextRid(), userIds };
    if (exceptDevices && exceptDevices.length > 0) frame.exceptDevices = exceptDevices;
    const { keyPackages, missing } = await this.request(frame, 'kp_claimed');
    return { keyPackages, missing };
  }

  private async groupRequest(frame: ClientFrame & { rid: string }): Promise<GroupChange> {
    const result = await this.request(frame, 'group_result');
    return { conversationId: result.conversationId, seq: result.seq };
  }

  /**
   * Sends a frame with a rid and resolves with the answer of type `expect`, or rejects with the
   * rid-matched error frame, TIMEOUT, or DISCONNECTED. `tap` runs synchronously on the answer,
   * before the promise settles, so deliveries it causes keep frame order.
   */
  private request<T extends ServerFrameType>(
    frame: ClientFrame & { rid: string },
    expect: T,
    tap?: (answer: ServerFrameOf<T>) => void,
  ): Promise<ServerFrameOf<T>> {
    if (this.stateValue !== 'connected') {
      return Promise.reject(
        this.isClosed() ? closedError() : new ChatClientError('NOT_CONNECTED', `cannot send ${frame.type}: not connected`),
      );
    }
    return new Promise<ServerFrameOf<T>>((resolve, reject) => {
      this.requests.add(
        frame.rid,
        expect,
        this.o.requestTimeoutMs,
        (answer) => {
          tap?.(answer as ServerFrameOf<T>);
          resolve(answer as ServerFrameOf<T>);
        },
        reject,
      );
      this.sendFrame(frame);
    });
  }

  // ---------- plumbing ----------

  private sendFrame(frame: ClientFrame): void {
    this.transport?.send(JSON.stringify(frame));
  }

  private nextRid(): string {
    return (++this.ridCounter).toString(36);
  }

  private record(event: HistoryEvent): void {
    this.o.history?.record(event);
  }

  /** Records an observation of this device, now (atMs, userId and deviceId filled in). */
  private recordFromDevice(event: DistributiveOmit<HistoryEvent, 'atMs' | 'userId' | 'deviceId'>): void {
    if (!this.o.history) return;
    const welcome = this.welcomeFrame;
    this.o.history.record({ ...event, atMs: this.o.clock.nowMs(), userId: welcome?.userId ?? '', deviceId: welcome?.deviceId ?? '' } as HistoryEvent);
  }

  protected override listenerFailed(name: string, error: unknown): void {
    if (name === 'error') {
      super.listenerFailed(name, error);
      return;
    }
    this.emit('error', toChatClientError(error, 'LISTENER_ERROR'));
  }
}

/** Omit over each member of a union (plain Omit would merge the members). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;


function ignore(): void {}

function closedError(): ChatClientError {
  return new ChatClientError('CLOSED', 'the client is closed');
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

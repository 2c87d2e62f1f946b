import { ChatError, isChatError, type ErrorCode } from '../core/errors.js';
import type { ConversationEvent, ReceiptState } from '../core/events.js';
import type { ConversationId, Seq, UserId } from '../core/ids.js';
import { TokenBucket } from '../core/token-bucket.js';
import { decodeClientFrame } from '../protocol/codec.js';
import type { ClientFrame, ClientFrameOf, ServerFrame, ServerFrameOf } from '../protocol/frames.js';
import { CloseCodes, PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '../protocol/version.js';
import type { TimerHandle } from '../ports/clock.js';
import type { Route } from '../ports/connection-registry.js';
import type { Connection } from '../ports/connection.js';
import type { InboxPosition } from '../ports/inbox-store.js';
import type { Unsubscribe } from '../ports/presence-store.js';
import type { Caller } from '../services/caller.js';
import type { ChatCore } from '../services/chat-core.js';
import type { KnownSenders } from '../services/receipt-service.js';
import { dispatchRequest } from './session-dispatch.js';

/** What a session needs from the gateway node that owns it. */
export interface SessionHost {
  readonly core: ChatCore;
  readonly nodeId: string;
  attach(connectionId: string, session: Session): void;
  detach(connectionId: string, session: Session): void;
  sessionClosed(session: Session): void;
}

type SessionState = 'awaiting-auth' | 'authenticating' | 'active' | 'closed';

/** Inbox events sent per page while draining on connect. */
const DRAIN_PAGE_EVENTS = 200;
/** Frames a client may send while its auth is still being checked. */
const FRAMES_BEFORE_AUTH_MAX = 64;
/** Live events held back while the inbox drains; beyond this the client is a slow consumer. */
const HELD_LIVE_EVENTS_MAX = 10_000;
/** First wait before marking a connection online again after the presence store failed to; doubles. */
const PRESENCE_RETRY_FIRST_MS = 500;
/**
 * Frames the rate limit does not count: delivery acks and heartbeats are the client keeping up
 * with what the server sends it, so counting them would punish busy recipients.
 */
const RATE_EXEMPT_FRAMES: ReadonlySet<string> = new Set(['ack', 'heartbeat']);
/** Rejected frames in a row (rate limit) after which the connection is closed. */
const RATE_STRIKES_MAX = 100;
/**
 * Pushed events remembered per conversation above its read mark (a few bytes each). Beyond it the
 * oldest are forgotten: an ack or read covering a forgotten one reads the log for its senders.
 */
const PUSHES_REMEMBERED_MAX = 256;

/**
 * One client connection's protocol logic, independent of the socket: authentication, frame
 * validation and dispatch, heartbeats and zombie detection, rate limiting, backpressure, and
 * in-order delivery (the offline inbox first, then live events). `ws` and the simulator's
 * virtual clients both drive it through the Connection port.
 */
export class Session {
  private state: SessionState = 'awaiting-auth';
  private caller: Caller | undefined;
  private route: Route | undefined;
  private readonly framesBeforeAuth: string[] = [];
  private draining = false;
  /** The client has sent a frame after the welcome: its device is shown online (confirmPresence). */
  private presenceConfirmed = false;
  /** The first marking of this connection online while it is still trying (markPresence). */
  private firstOnlineMark: Promise<void> | undefined;
  private replayingEarlyFrames = false;
  /** Receipts and control frames routed here before the welcome was sent (see deliverFrame). */
  private framesBeforeWelcome: ServerFrame[] | undefined;
  private readonly heldLiveEvents: Array<ServerFrameOf<'event'>> = [];
  /** Highest seq sent on this connection per conversation: later copies of an event are dropped. */
  private readonly lastSentSeq = new Map<ConversationId, Seq>();
  /** Whose messages this connection pushed and the device has not acknowledged or read yet. */
  private readonly pushes = new PushedEvents();
  private readonly presenceWatches = new Map<string, Unsubscribe>();
  private readonly rateBucket: TokenBucket;
  private rateStrikes = 0;
  private lastInboundMs: number;
  private zombieCheck: TimerHandle | undefined;
  private readingPaused = false;
  private writableWaiters: Array<() => void> = [];
  private inflightRequests = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly host: SessionHost,
    private readonly connection: Connection,
  ) {
    const { clock, limits } = host.core.deps;
    this.rateBucket = new TokenBucket(clock, limits.rateFramesPerSecond, limits.rateBurstFrames);
    this.lastInboundMs = clock.nowMs();
    this.host.core.deps.metrics.connectionOpened();
    this.scheduleZombieCheck();
  }

  get connectionId(): string {
    return this.connection.id;
  }

  get device(): Caller | undefined {
    return this.caller;
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** A text frame from the client. Never throws: every failure becomes an error frame. */
  handleText(raw: string, receivedAtMs?: number): void {
    if (this.state === 'closed') return;
    const { deps } = this.host.core;
    this.lastInboundMs = deps.clock.nowMs();
    if (this.state === 'authenticating') {
      if (this.framesBeforeAuth.length >= FRAMES_BEFORE_AUTH_MAX) {
        this.sendError(new ChatError('RATE_LIMITED', 'too many frames before auth completed'));
      } else {
        this.framesBeforeAuth.push(raw);
      }
      return;
    }
    const decoded = decodeClientFrame(raw, deps.limits);
    if ('error' in decoded) {
      // Garbage costs a token too, so it cannot be used to flood.
      if (this.takeRateToken(decoded.rid, decoded.type)) this.sendError(decoded.error, decoded.rid, decoded.type);
      return;
    }
    const frame = decoded.frame;
    deps.metrics.frameIn(frame.type);
    if (!RATE_EXEMPT_FRAMES.has(frame.type) && !this.takeRateToken(ridOf(frame), frame.type)) return;
    if (this.state === 'awaiting-auth') {
      if (frame.type !== 'auth') {
        this.sendError(new ChatError('NOT_AUTHENTICATED', 'send auth first'), ridOf(frame), frame.type);
        return;
      }
      void this.authenticate(frame);
      return;
    }
    if (!this.presenceConfirmed && !this.replayingEarlyFrames) this.confirmPresence();
    this.dispatch(frame, receivedAtMs ?? this.lastInboundMs);
  }

  /**
   * The client's first frame after the welcome shows it read the welcome: only now is the device
   * shown online. Marked at auth, a device whose client gave up before the welcome reached it (a
   * connect timeout, the app closed, the gateway crashed) was shown online although it never
   * connected, for up to the presence TTL. Clients send a heartbeat on welcome; its own
   * re-announcement waits for this marking rather than making another (markPresence).
   */
  private confirmPresence(): void {
    this.presenceConfirmed = true;
    const shown = this.showOnline();
    this.firstOnlineMark = shown;
    const settle = () => {
      if (this.firstOnlineMark === shown) this.firstOnlineMark = undefined;
    };
    shown.then(settle, settle);
  }

  /**
   * This connection's presence, marked again (a heartbeat, a re-announcement). While the first
   * marking is still trying, that one is the answer: a heartbeat is acknowledged only once the
   * device shows online, so a client that records its connection at that acknowledgement (the
   * client core does) never counts itself online before its watchers can see it.
   */
  private markPresence(): Promise<void> | undefined {
    if (!this.presenceConfirmed || !this.caller || !this.route) return undefined;
    return this.firstOnlineMark ?? this.host.core.presence.online(this.caller, this.route);
  }

  /**
   * Marks this connection online, trying again (PRESENCE_RETRY_FIRST_MS, doubling) while the
   * store does not answer, until a heartbeat interval has passed; from then on the heartbeats do.
   */
  private async showOnline(): Promise<void> {
    const { core } = this.host;
    const { clock, limits } = core.deps;
    const caller = this.caller;
    const route = this.route;
    if (!caller || !route) return;
    const startedMs = clock.nowMs();
    for (let delayMs = PRESENCE_RETRY_FIRST_MS; !this.isClosed; delayMs *= 2) {
      try {
        await core.presence.online(caller, route);
        // Closed meanwhile: its close may have removed the entry before this put it back.
        if (this.isClosed) await core.presence.offline(caller, route);
        return;
      } catch (error) {
        if (clock.nowMs() + delayMs - startedMs > limits.heartbeatIntervalMs) throw error;
        await new Promise<void>((resolve) => clock.setTimer(delayMs, resolve));
      }
    }
  }

  /** Token-bucket rate limit per connection; a long run of rejected frames closes it. */
  private takeRateToken(rid: string | undefined, type: string | undefined): boolean {
    if (this.rateBucket.take()) {
      this.rateStrikes = 0;
      return true;
    }
    this.rateStrikes++;
    if (this.rateStrikes > RATE_STRIKES_MAX) {
      this.fail(new ChatError('RATE_LIMITED', 'sustained flooding; connection closed'), CloseCodes.RATE_LIMITED);
    } else {
      this.sendError(new ChatError('RATE_LIMITED', 'rate limit exceeded', { retryAfterMs: this.rateBucket.msUntilNext() }), rid, type);
    }
    return false;
  }

  /** Frames are JSON text; a binary frame is answered, not processed. */
  handleBinary(): void {
    if (this.state === 'closed') return;
    this.lastInboundMs = this.host.core.deps.clock.nowMs();
    this.sendError(new ChatError('BAD_FRAME', 'binary frames are not part of the protocol; send JSON text frames'));
  }

  /** The transport reports the socket closed (by either side). */
  handleClose(reason = 'closed'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.zombieCheck?.cancel();
    for (const unsubscribe of this.presenceWatches.values()) unsubscribe();
    this.presenceWatches.clear();
    this.releaseWaiters();
    this.host.core.deps.metrics.connectionClosed(reason);
    if (this.caller) {
      this.host.detach(this.connection.id, this);
      void this.goOffline(this.caller, this.route!);
    }
    this.host.sessionClosed(this);
  }

  /** The transport's send buffer drained below its high-water mark. */
  handleWritable(): void {
    const { limits } = this.host.core.deps;
    if (this.readingPaused && this.connection.bufferedBytes() < limits.sendBufferPauseBytes / 2) {
      this.readingPaused = false;
      this.connection.resumeReading();
    }
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const wake of waiters) wake();
  }

  /** A frame routed to this connection (a live event, a receipt, a control frame). */
  deliverFrame(frame: ServerFrame): void {
    if (this.state === 'closed') return;
    if (this.state === 'authenticating' && frame.type !== 'event') {
      // Routed here between the registration and the welcome: the welcome must be the first frame
      // the client reads (until then it does not know who it is), so the frame waits for it.
      if ((this.framesBeforeWelcome ??= []).length >= HELD_LIVE_EVENTS_MAX) {
        this.fail(new ChatError('SLOW_CONSUMER', 'too many frames arrived before the welcome'), CloseCodes.SLOW_CONSUMER);
        return;
      }
      this.framesBeforeWelcome.push(frame);
      return;
    }
    if (frame.type === 'event') {
      if (this.draining) {
        if (this.heldLiveEvents.length >= HELD_LIVE_EVENTS_MAX) {
          this.fail(new ChatError('SLOW_CONSUMER', 'too many events arrived while the inbox drained'), CloseCodes.SLOW_CONSUMER);
          return;
        }
        this.heldLiveEvents.push(frame);
        return;
      }
      this.sendEvent(frame, true);
      return;
    }
    if (frame.type === 'goaway' && frame.reason === 'device_unlinked') {
      this.send(frame);
      this.close(CloseCodes.DEVICE_UNLINKED, 'device unlinked');
      return;
    }
    this.send(frame);
  }

  /** Graceful shutdown, step 1: tell the client to reconnect elsewhere. */
  goAway(reason: string, reconnectAfterMs: number, urls?: string[]): void {
    if (this.state === 'closed') return;
    const frame: ServerFrameOf<'goaway'> = { type: 'goaway', reason, reconnectAfterMs };
    if (urls && urls.length > 0) frame.urls = urls;
    this.send(frame);
  }

  /** Resolves when no request of this connection is being processed. */
  whenIdle(): Promise<void> {
    if (this.inflightRequests === 0 || this.state === 'closed') return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.connection.close(code, reason);
    this.handleClose(reason);
  }

  // ---------- authentication and inbox drain ----------

  private async authenticate(frame: ClientFrameOf<'auth'>): Promise<void> {
    const { core } = this.host;
    const { limits, clock } = core.deps;
    this.state = 'authenticating';
    if (!SUPPORTED_PROTOCOL_VERSIONS.includes(frame.v)) {
      this.fail(
        new ChatError('UNSUPPORTED_VERSION', `server speaks protocol versions ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`),
        CloseCodes.POLICY,
        frame.rid,
        'auth',
      );
      return;
    }
    let claims;
    try {
      claims = await core.auth.authenticate(frame.token);
    } catch (error) {
      const refusal = asChatError(error);
      // A store or token service that failed is not a verdict on the token: the client must retry,
      // and AUTH_FAILED would tell it to give up (the error frame may be read after the close).
      this.fail(refusal, refusal.retryable ? CloseCodes.GOING_AWAY : CloseCodes.AUTH_FAILED, frame.rid, 'auth');
      return;
    }
    if (this.isClosed) return;
    const caller: Caller = { userId: claims.userId, deviceId: claims.deviceId };
    const route: Route = { nodeId: this.host.nodeId, connectionId: this.connection.id };
    this.caller = caller;
    this.route = route;
    this.draining = true;
    this.host.attach(this.connection.id, this);
    let incarnation: string;
    try {
      // Read at gateway start; only a session that beat the start waits for it here.
      incarnation = core.incarnation.current ?? (await core.incarnation.start());
      // Register before draining: anything accepted from now on is routed here live, anything
      // accepted before is already in the inbox (the fan-out queues before it looks up routes).
      await core.deps.registry.put(caller, route, limits.registryTtlMs);
    } catch (error) {
      this.fail(asChatError(error), CloseCodes.GOING_AWAY, frame.rid, 'auth');
      return;
    }
    core.pushNotifier.deviceOnline(caller);
    if (this.isClosed) return;
    const welcome: ServerFrameOf<'welcome'> = {
      type: 'welcome',
      v: PROTOCOL_VERSION,
      userId: caller.userId,
      deviceId: caller.deviceId,
      nodeId: this.host.nodeId,
      incarnation,
      serverTimeMs: clock.nowMs(),
      heartbeatIntervalMs: limits.heartbeatIntervalMs,
      limits: { ...limits },
    };
    if (frame.rid) welcome.rid = frame.rid;
    this.send(welcome);
    this.state = 'active';
    const early = this.framesBeforeWelcome;
    this.framesBeforeWelcome = undefined;
    if (early) for (const held of early) this.deliverFrame(held);
    // Frames sent before the welcome was read do not show that it was (see confirmPresence).
    this.replayingEarlyFrames = true;
    for (const raw of this.framesBeforeAuth.splice(0)) this.handleText(raw);
    this.replayingEarlyFrames = false;
    await this.drainInbox(caller);
  }

  private async drainInbox(caller: Caller): Promise<void> {
    const { inbox, limits, metrics } = this.host.core.deps;
    let after: InboxPosition | undefined;
    let drained = 0;
    try {
      for (;;) {
        const page = await inbox.list(caller, DRAIN_PAGE_EVENTS, after);
        if (this.isClosed) return;
        for (const event of page) {
          // The drain goes at the client's pace: a big inbox must not trip the slow-consumer limit.
          if (this.connection.bufferedBytes() > limits.sendBufferPauseBytes) await this.writable();
          if (this.isClosed) return;
          this.sendEvent({ type: 'event', event, queued: true }, false);
        }
        drained += page.length;
        const last = page[page.length - 1];
        if (!last || page.length < DRAIN_PAGE_EVENTS) break;
        after = { conversationId: last.conversationId, seq: last.seq };
      }
    } catch (error) {
      // The inbox keeps everything until acked: the client gets it on its next connection.
      this.fail(asChatError(error), CloseCodes.GOING_AWAY);
      return;
    }
    metrics.inboxDrained(drained);
    this.draining = false;
    for (const frame of this.heldLiveEvents.splice(0)) this.sendEvent(frame, true);
  }

  private async goOffline(caller: Caller, route: Route): Promise<void> {
    const { core } = this.host;
    try {
      await core.deps.registry.remove(caller, route);
      // Only this connection's entry: a newer connection of the device keeps its own.
      if (this.presenceConfirmed) await core.presence.offline(caller, route);
    } catch {
      // Registry and presence entries expire by TTL when the store cannot be reached now.
    }
  }

  // ---------- requests ----------

  /** receivedAtMs: when the frame came off the socket (it may have waited for its turn since). */
  private dispatch(frame: ClientFrame, receivedAtMs: number): void {
    if (frame.type === 'auth') {
      this.sendError(new ChatError('ALREADY_AUTHENTICATED', 'this connection is already authenticated'), frame.rid, 'auth');
      return;
    }
    this.inflightRequests++;
    dispatchRequest(this.requestContext(receivedAtMs), frame)
      .then(
        (reply) => {
          // The fan-out skips the sending device: its own seq is known here from the answer only.
          if (reply?.type === 'sent') this.pushes.own(reply.conversationId, reply.seq);
          if (reply) this.send(reply);
        },
        (error: unknown) => this.sendError(this.reportable(error, frame.type), ridOf(frame), frame.type),
      )
      .finally(() => {
        this.inflightRequests--;
        if (this.inflightRequests === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      });
  }

  private requestContext(receivedAtMs: number) {
    return {
      receivedAtMs,
      core: this.host.core,
      caller: this.caller!,
      route: this.route!,
      watchPresence: (userIds: string[]) => this.watchPresence(userIds),
      unwatchPresence: (userIds: string[]) => this.unwatchPresence(userIds),
      reannounce: () => this.reannounce(),
      sentThroughSeq: (conversationId: string) => this.lastSentSeq.get(conversationId) ?? 0,
      pushes: this.pushes,
    };
  }

  /**
   * Puts this connection's route and presence back (the registry and presence store lost them:
   * Redis restarted) and sends what waits in the inbox, instead of leaving the device unroutable
   * and "offline" until its next heartbeat. Unauthenticated or closing sessions have nothing to say.
   */
  async reannounce(): Promise<void> {
    if (this.state !== 'active' || !this.caller || !this.route) return;
    const { core } = this.host;
    await Promise.all([core.deps.registry.put(this.caller, this.route, core.deps.limits.registryTtlMs), this.markPresence()]);
    await this.sweepInbox();
  }

  /**
   * Live delivery is best effort: a registry entry lost in a Redis restart, or a pub/sub frame
   * published while a gateway's subscriber reconnected, never reaches the connection although the
   * event waits in the inbox. Each heartbeat re-reads the head of the inbox and sends what this
   * connection has not sent yet, so such an event arrives within one heartbeat interval.
   */
  private async sweepInbox(): Promise<void> {
    if (this.draining || this.isClosed) return;
    const { inbox } = this.host.core.deps;
    const pending = await inbox.list(this.caller!, DRAIN_PAGE_EVENTS);
    if (this.draining || this.isClosed) return;
    for (const event of pending) this.sendEvent({ type: 'event', event, queued: true }, false);
  }

  private async watchPresence(userIds: string[]): Promise<void> {
    const { limits } = this.host.core.deps;
    const fresh = [...new Set(userIds)].filter((u) => !this.presenceWatches.has(u));
    if (this.presenceWatches.size + fresh.length > limits.presenceSubscriptionsMax) {
      throw new ChatError('INVALID_FIELD', `a connection may watch at most ${limits.presenceSubscriptionsMax} users`);
    }
    for (const userId of fresh) {
      // Reserve the slot first so a concurrent subscribe cannot double-watch.
      this.presenceWatches.set(userId, () => undefined);
      const unsubscribe = await this.host.core.presence.watch(userId, (state) => {
        const frame: ServerFrameOf<'presence'> = { type: 'presence', userId: state.userId, online: state.online };
        if (state.lastSeenMs !== undefined) frame.lastSeenMs = state.lastSeenMs;
        this.send(frame);
      });
      if (this.isClosed || !this.presenceWatches.has(userId)) unsubscribe();
      else this.presenceWatches.set(userId, unsubscribe);
    }
  }

  private unwatchPresence(userIds: string[]): void {
    for (const userId of userIds) {
      this.presenceWatches.get(userId)?.();
      this.presenceWatches.delete(userId);
    }
  }

  // ---------- sending, backpressure, liveness ----------

  private sendEvent(frame: ServerFrameOf<'event'>, live: boolean): void {
    const { conversationId, seq, serverTimeMs } = frame.event;
    // Even a copy not sent is noted: a late event fills a gap the client fills by `sync`.
    this.pushes.pushed(frame.event, this.caller!.userId);
    if (seq <= (this.lastSentSeq.get(conversationId) ?? 0)) return;
    this.lastSentSeq.set(conversationId, seq);
    this.send(frame);
    if (live) {
      const { metrics, clock } = this.host.core.deps;
      metrics.messageDelivered(clock.nowMs() - serverTimeMs);
    }
  }

  private send(frame: ServerFrame): void {
    if (this.state === 'closed') return;
    const { metrics, limits } = this.host.core.deps;
    this.connection.send(frame);
    metrics.frameOut(frame.type);
    const buffered = this.connection.bufferedBytes();
    if (buffered > limits.sendBufferBytesMax) {
      // Memory stays bounded: drop the connection rather than buffer without limit. Undelivered
      // events stay in the device's inbox and arrive when it reconnects.
      metrics.error('SLOW_CONSUMER');
      this.close(CloseCodes.SLOW_CONSUMER, 'slow consumer');
    } else if (buffered > limits.sendBufferPauseBytes && !this.readingPaused) {
      this.readingPaused = true;
      this.connection.pauseReading();
    }
  }

  private sendError(error: ChatError, rid?: string, inReplyTo?: string): void {
    this.host.core.deps.metrics.error(error.code);
    const frame: ServerFrameOf<'error'> = { type: 'error', code: error.code, message: error.message, retryable: error.retryable };
    if (rid !== undefined) frame.rid = rid;
    if (error.retryAfterMs !== undefined) frame.retryAfterMs = error.retryAfterMs;
    if (inReplyTo !== undefined) frame.inReplyTo = inReplyTo;
    this.send(frame);
  }

  private fail(error: ChatError, closeCode: number, rid?: string, inReplyTo?: string): void {
    this.sendError(error, rid, inReplyTo);
    this.close(closeCode, error.code);
  }

  /** Unexpected errors are logged here and reach the client only as INTERNAL. */
  private reportable(error: unknown, frameType: string): ChatError {
    if (!isChatError(error)) {
      this.host.core.deps.log.error('request failed', { frameType, error: String((error as Error)?.stack ?? error) });
    }
    return asChatError(error);
  }

  private writable(): Promise<void> {
    return new Promise((resolve) => this.writableWaiters.push(resolve));
  }

  private releaseWaiters(): void {
    for (const wake of this.writableWaiters.splice(0)) wake();
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /**
   * One timer per connection, armed for the earliest moment it could have gone silent for the
   * whole timeout: when it fires and frames came meanwhile, it re-arms for the new earliest
   * moment. So a live connection costs about one timer per timeout rather than one per frame or
   * per fixed period, and a silent one is closed right at its timeout.
   */
  private scheduleZombieCheck(delayMs?: number): void {
    const { clock, limits } = this.host.core.deps;
    this.zombieCheck = clock.setTimer(delayMs ?? limits.heartbeatTimeoutMs + 1, () => {
      if (this.state === 'closed') return;
      const silentMs = clock.nowMs() - this.lastInboundMs;
      if (silentMs > limits.heartbeatTimeoutMs) {
        this.fail(new ChatError('HEARTBEAT_TIMEOUT', `no frame for over ${limits.heartbeatTimeoutMs} ms`), CloseCodes.HEARTBEAT_TIMEOUT);
        return;
      }
      this.scheduleZombieCheck(limits.heartbeatTimeoutMs - silentMs + 1);
    });
  }
}

function ridOf(frame: ClientFrame): string | undefined {
  return 'rid' in frame ? frame.rid : undefined;
}

function asChatError(error: unknown): ChatError {
  if (isChatError(error)) return error;
  return new ChatError('INTERNAL' satisfies ErrorCode, 'internal error');
}

/**
 * Per conversation, the events this connection pushed (and the seqs its own sends took) above the
 * device's read mark, with the user a receipt for each goes to: so an `ack` or `read` of what the
 * connection pushed names its senders without reading the log. Senders are known only for a range
 * of seqs every one of which is accounted for here; a gap (a live event lost, one pushed out of
 * order, an own message sent on an earlier connection, a forgotten push) leaves the senders
 * unknown, and the receipt service reads the log as it does for any other ack.
 */
export class PushedEvents {
  private readonly logs = new Map<ConversationId, PushLog>();

  /** An event given to this connection (sent, or dropped as a repeat). */
  pushed(event: ConversationEvent, ownUserId: UserId): void {
    let log = this.logs.get(event.conversationId);
    if (!log) {
      // Everything below the first push the device was due had been acknowledged: the inbox
      // holds what is not and drains before anything else goes out. Reads have no such bound.
      const belowSeq = event.seq - 1;
      log = { firstSeq: event.seq, entries: [], deliveredThroughSeq: belowSeq, readThroughSeq: belowSeq, readSettled: false };
      this.logs.set(event.conversationId, log);
    }
    const sender = event.kind === 'message' && event.senderUserId !== ownUserId ? event.senderUserId : undefined;
    note(log, event.seq, sender);
  }

  /** A seq this connection's own send took: nobody to tell, but no gap either. */
  own(conversationId: ConversationId, seq: Seq): void {
    const log = this.logs.get(conversationId);
    if (log) note(log, seq, undefined);
  }

  /**
   * Whom raising `state` to `seq` concerns: the senders of the pushed messages above what this
   * connection already announced. Undefined when a seq in that range is not accounted for, or
   * `seq` lies below the first push (the device got it some other way).
   */
  senders(conversationId: ConversationId, state: ReceiptState, seq: Seq): KnownSenders | undefined {
    const log = this.logs.get(conversationId);
    if (!log || seq < log.firstSeq) return undefined;
    const afterSeq = state === 'delivered' ? log.deliveredThroughSeq : log.readThroughSeq;
    const earlierSettled = state === 'delivered' || log.readSettled;
    const senders = new Set<UserId>();
    if (seq <= afterSeq) return { senders, afterSeq, earlierSettled };
    const from = firstAbove(log.entries, afterSeq);
    const to = firstAbove(log.entries, seq);
    if (to - from !== seq - afterSeq) return undefined;
    for (let i = from; i < to; i++) {
      const sender = log.entries[i]![1];
      if (sender !== undefined) senders.add(sender);
    }
    return { senders, afterSeq, earlierSettled };
  }

  /** An ack or read through `seq` went through: its receipts are out. */
  acknowledged(conversationId: ConversationId, state: ReceiptState, seq: Seq): void {
    const log = this.logs.get(conversationId);
    if (!log) return;
    // A read raises "delivered" too.
    log.deliveredThroughSeq = Math.max(log.deliveredThroughSeq, seq);
    if (state !== 'read' || seq <= log.readThroughSeq) return;
    log.readThroughSeq = seq;
    log.readSettled = true;
    log.entries.splice(0, firstAbove(log.entries, seq));
  }
}

interface PushLog {
  firstSeq: Seq;
  /** [seq, user a receipt for it goes to (none: a membership event, the caller's own)], ascending, above readThroughSeq. */
  entries: Array<[Seq, UserId | undefined]>;
  /** Receipts are out for everything at or below: acknowledged on this connection, or before it. */
  deliveredThroughSeq: Seq;
  readThroughSeq: Seq;
  /** Read on this connection through readThroughSeq (until then it is only the first push's bound). */
  readSettled: boolean;
}

function note(log: PushLog, seq: Seq, sender: UserId | undefined): void {
  if (seq <= log.readThroughSeq || seq < log.firstSeq) return;
  const at = firstAbove(log.entries, seq - 1);
  if (log.entries[at]?.[0] === seq) return;
  log.entries.splice(at, 0, [seq, sender]);
  if (log.entries.length > PUSHES_REMEMBERED_MAX) log.entries.shift();
}

/** Index of the first entry with a seq above `seq` (entries ascending). */
function firstAbove(entries: ReadonlyArray<[Seq, UserId | undefined]>, seq: Seq): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]![0] <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

import type { HistoryEvent } from '../../checker/history.js';
import { Ordering, type OrderingSink, type Via } from '../../sdk/ordering.js';
import type { ConversationEvent, MediaRef } from '../../system/core/events.js';
import type { ConversationId, Seq } from '../../system/core/ids.js';
import type { ServerFrame, ServerFrameOf } from '../../system/protocol/frames.js';
import { PROTOCOL_VERSION } from '../../system/protocol/version.js';
import { backoffDelayMs } from '../../sdk/backoff.js';
import { deliverRecord } from '../../sdk/history-recorder.js';
import type { Scheduler } from '../../system/adapters/virtual/scheduler.js';
import type { ClientEndpoint, SimConnection } from '../../system/worlds/simulated/sim-connection.js';

/** A send the device has not had acknowledged yet (kept across reconnects and offline spells). */
export interface PendingSend {
  conversationId: ConversationId;
  clientMessageId: string;
  body: string;
  media: MediaRef | undefined;
  attempt: number;
  rid: string;
  firstSentAtMs: number;
  /**
   * The gateway took it into its write-ahead log (a `queued` answer): durable on the server, so
   * no timer re-sends it; its seq arrives as its own message echoed back (or by sync).
   */
  queued?: boolean;
}

/** What a device keeps while offline: cursors and unsent messages (an app persists both). */
export interface PersistedDevice {
  cursors: Record<ConversationId, Seq>;
  outbox: PendingSend[];
  counter: number;
  /** The highest receipt watermarks seen (the SDK keeps them for its client's lifetime); absent when none. */
  receiptMarks?: Map<string, number>;
}

/** What devices need from the simulation around them. */
export interface DeviceHost {
  readonly time: Scheduler;
  readonly sendTimeoutMs: number;
  readonly retryDelayMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly heartbeatTimeoutMs: number;
  /** Opens a connection on some live gateway (after the handshake delay, the device sends auth). */
  connect(device: VirtualDevice, attempt: number): SimConnection | undefined;
  /** One extra round trip for TCP/TLS/WebSocket set-up before the first frame. */
  handshakeMs(): number;
  /** A fresh token (issued now: a device signing in again after an unlink needs one). Settles within the instant. */
  token(device: VirtualDevice): Promise<string>;
  record(event: HistoryEvent): void;
  random(): number;
  /** Called on every delivered chat message (latency, read behaviour). */
  messageDelivered(device: VirtualDevice, event: ConversationEvent, via: Via): void;
  messageAcked(device: VirtualDevice, send: PendingSend, seq: Seq): void;
  /** A presence frame about a user arrived. */
  presenceSeen(device: VirtualDevice, subjectUserId: string, online: boolean): void;
  connected(device: VirtualDevice): void;
  disconnected(device: VirtualDevice): void;
  sendRejected(device: VirtualDevice, send: PendingSend, code: string): void;
  /** Contacts whose presence the device watches after connecting. */
  presenceTargets(device: VirtualDevice): string[];
}

type State = 'offline' | 'connecting' | 'connected';

/**
 * A lightweight virtual client: speaks the protocol's JSON frames to a real Session through a
 * SimConnection, and keeps what a real client must: per-conversation order and de-duplication
 * (the SDK's own Ordering, with gap repair by sync), an outbox re-sent with the same
 * clientMessageId until acknowledged, cumulative acks, heartbeats and reconnects. It records the
 * checker's history events as the SDK does. Exists only while its device is online; offline, the
 * population keeps a PersistedDevice (cursors, outbox) at most.
 */
export class VirtualDevice implements ClientEndpoint, OrderingSink {
  readonly userId: string;
  readonly deviceId: string;
  private state: State = 'offline';
  private connection: SimConnection | undefined;
  private readonly ordering: Ordering;
  readonly outbox = new Map<string, PendingSend>();
  /** Sync requests in flight by rid; created on first use (most connections never sync). */
  private syncs: Map<string, { conversationId: ConversationId; afterSeq: Seq }> | undefined;
  private pendingAcks: Map<ConversationId, Seq> | undefined;
  private ridCounter = 0;
  counter: number;
  private generation = 0;
  private connectAttempt = 0;
  private lastInboundMs = 0;
  /** The device is meant to be online (false once its session ended). */
  wanted = true;
  /** Bytes/s this device reads at while a slow_consumer fault covers it (0 = normal). */
  slowReadBytesPerS = 0;
  /**
   * Highest receipt watermarks seen per (conversation, device), as the SDK keeps them: one at
   * or below it is stale (two gateways announced raises out of order, e.g. one that was paused)
   * and is dropped (docs/protocol.md, "Receipts"). Created on first use, kept while the device is
   * offline (PersistedDevice), as the SDK's client keeps it: an ack that reaches a gateway below
   * the stored watermark after a reconnect is announced again, to a sender that may have been
   * offline in between.
   */
  private receiptMarks: Map<string, number> | undefined;
  /** Sends answered with a seq whose ack waits for earlier events (Ordering holds it); created on first use. */
  private heldAcks: Map<string, PendingSend> | undefined;

  constructor(
    private readonly host: DeviceHost,
    readonly index: number,
    readonly userIndex: number,
    deviceNo: number,
    persisted: PersistedDevice | undefined,
  ) {
    this.userId = `u${userIndex}`;
    this.deviceId = `d${deviceNo}`;
    this.ordering = new Ordering(this, persisted?.cursors);
    this.counter = persisted?.counter ?? 0;
    for (const send of persisted?.outbox ?? []) this.outbox.set(send.clientMessageId, send);
    this.receiptMarks = persisted?.receiptMarks;
  }

  get isConnected(): boolean {
    return this.state === 'connected';
  }

  get hasPendingSends(): boolean {
    return this.outbox.size > 0;
  }

  get pendingSyncs(): number {
    return this.syncs?.size ?? 0;
  }

  cursor(conversationId: ConversationId): Seq | undefined {
    return this.ordering.cursor(conversationId);
  }

  persist(): PersistedDevice | undefined {
    const cursors = this.ordering.cursors();
    // A send whose seq came while events before it were missing has no ack recorded yet (the
    // order holds it until the gap is filled): it goes back into the outbox, so that the next
    // session learns its seq again (a re-send answered as a duplicate, or its own copy by sync)
    // and records the ack then. Dropped with the session, a message logged during an outage
    // looked lost to the checker although it was stored and delivered.
    const outbox = [...this.outbox.values(), ...(this.heldAcks?.values() ?? [])];
    let any = outbox.length > 0;
    for (const _ in cursors) {
      any = true;
      break;
    }
    if (!any && this.counter === 0 && !this.receiptMarks) return undefined;
    return this.receiptMarks ? { cursors, outbox, counter: this.counter, receiptMarks: this.receiptMarks } : { cursors, outbox, counter: this.counter };
  }

  /** slow_consumer: from now on this device reads its socket at `bytesPerS` (0 = normally). */
  setSlowRead(bytesPerS: number): void {
    this.slowReadBytesPerS = bytesPerS;
    if (this.connection) this.connection.readBytesPerS = bytesPerS;
  }

  // ---------- connection life ----------

  start(): void {
    this.wanted = true;
    this.open();
  }

  /** The session ended: the app closes the connection (unsent messages stay in the outbox). */
  stop(): void {
    this.wanted = false;
    this.generation++;
    const conn = this.connection;
    this.connection = undefined;
    const wasConnected = this.state === 'connected';
    this.state = 'offline';
    if (conn) conn.clientClose();
    if (wasConnected) this.recordDisconnect();
  }

  private open(): void {
    if (!this.wanted) return;
    this.generation++;
    const generation = this.generation;
    this.state = 'connecting';
    const conn = this.host.connect(this, this.connectAttempt);
    if (!conn) {
      this.scheduleReconnect();
      return;
    }
    this.connection = conn;
    conn.readBytesPerS = this.slowReadBytesPerS;
    const stillThisAttempt = () => generation === this.generation && this.connection === conn;
    this.host.time.schedule(this.host.handshakeMs(), () => {
      if (!stillThisAttempt()) return;
      void this.host.token(this).then((token) => {
        if (stillThisAttempt()) this.write('auth', { type: 'auth', v: PROTOCOL_VERSION, token, rid: 'auth' });
      });
    });
    // No welcome in time (gateway hung, auth stuck on a store): give up and try again.
    this.host.time.schedule(CONNECT_TIMEOUT_MS, () => {
      if (generation !== this.generation || this.connection !== conn || this.state === 'connected') return;
      this.connection = undefined;
      conn.clientClose();
      this.onClosed();
    });
  }

  private scheduleReconnect(): void {
    if (!this.wanted) return;
    this.state = 'connecting';
    this.connectAttempt++;
    const generation = ++this.generation;
    // The SDK's backoff (equal jitter), so simulated reconnect storms spread as real ones do.
    const delayMs = backoffDelayMs(this.connectAttempt, this.host.reconnectMinMs, this.host.reconnectMaxMs, this.host.random());
    this.host.time.schedule(delayMs, () => {
      if (generation === this.generation) this.open();
    });
  }

  onClosed(): void {
    const wasConnected = this.state === 'connected';
    this.connection = undefined;
    this.ordering.resetInFlight();
    this.syncs = undefined;
    this.pendingAcks = undefined;
    if (wasConnected) this.recordDisconnect();
    this.state = 'connecting';
    this.scheduleReconnect();
  }

  private recordDisconnect(): void {
    this.host.record({ type: 'disconnect', atMs: this.host.time.nowMs(), userId: this.userId, deviceId: this.deviceId });
    this.host.disconnected(this);
  }

  private onWelcome(): void {
    this.state = 'connected';
    this.connectAttempt = 0;
    this.host.record({ type: 'connect', atMs: this.host.time.nowMs(), userId: this.userId, deviceId: this.deviceId });
    this.host.connected(this);
    const watch = this.host.presenceTargets(this);
    if (watch.length > 0) this.write('presence_subscribe', { type: 'presence_subscribe', userIds: watch });
    for (const send of this.outbox.values()) this.transmit(send);
    this.ordering.retryWanted();
    this.armHeartbeat(this.generation);
  }

  private armHeartbeat(generation: number): void {
    // Heartbeats every interval; a connection that has been silent past the timeout is dead.
    this.host.time.schedule(HEARTBEAT_INTERVAL_MS, () => {
      if (generation !== this.generation || this.state !== 'connected') return;
      if (this.host.time.nowMs() - this.lastInboundMs > this.host.heartbeatTimeoutMs) {
        const conn = this.connection;
        this.connection = undefined;
        conn?.clientClose();
        this.onClosed();
        return;
      }
      this.write('heartbeat', { type: 'heartbeat' });
      this.armHeartbeat(generation);
    });
  }

  // ---------- frames from the server ----------

  onFrame(frame: ServerFrame): void {
    this.lastInboundMs = this.host.time.nowMs();
    switch (frame.type) {
      case 'welcome':
        this.onWelcome();
        return;
      case 'event':
        this.onEvent(frame.event, frame.queued ? 'sync' : 'live', true);
        return;
      case 'sent':
        this.onSent(frame);
        return;
      case 'queued':
        this.onQueued(frame);
        return;
      case 'receipt': {
        // One entry per (conversation, device): delivered and read packed into one number.
        const key = `${frame.conversationId} ${frame.userId}/${frame.deviceId}`;
        const marks = (this.receiptMarks ??= new Map());
        const packed = marks.get(key) ?? 0;
        const delivered = packed % RECEIPT_SEQ_SPAN;
        const read = Math.floor(packed / RECEIPT_SEQ_SPAN);
        if (frame.upToSeq <= (frame.state === 'read' ? read : delivered)) return;
        marks.set(key, frame.state === 'read' ? frame.upToSeq * RECEIPT_SEQ_SPAN + delivered : read * RECEIPT_SEQ_SPAN + frame.upToSeq);
        this.host.record({
          type: 'receipt',
          atMs: this.host.time.nowMs(),
          userId: this.userId,
          deviceId: this.deviceId,
          conversationId: frame.conversationId,
          state: frame.state,
          upToSeq: frame.upToSeq,
          byUserId: frame.userId,
          byDeviceId: frame.deviceId,
        });
        return;
      }
      case 'presence':
        this.host.record({
          type: 'presence',
          atMs: this.host.time.nowMs(),
          userId: this.userId,
          deviceId: this.deviceId,
          subjectUserId: frame.userId,
          online: frame.online,
        });
        this.host.presenceSeen(this, frame.userId, frame.online);
        return;
      case 'sync_result':
        this.onSyncPage(frame);
        return;
      case 'error':
        this.onError(frame);
        return;
      case 'media_url':
        this.onMediaUrl(frame);
        return;
      case 'goaway':
        // The server asks us to reconnect (elsewhere): close and come back after its hint.
        this.connection?.clientClose();
        this.onClosed();
        return;
      default:
        return;
    }
  }

  /** pushed: came in an `event` frame (an inbox copy to acknowledge), not in a sync page. */
  private onEvent(event: ConversationEvent, via: Via, pushed: boolean): void {
    if (event.kind === 'message' && event.senderUserId === this.userId && event.senderDeviceId === this.deviceId && this.outbox.get(event.clientMessageId)?.conversationId === event.conversationId) {
      // Our message, still in the outbox, comes back numbered (the write-ahead log's replay, or a
      // sync after its answer was lost): that is its ack, as the SDK takes it.
      this.onSent({ type: 'sent', conversationId: event.conversationId, clientMessageId: event.clientMessageId, seq: event.seq, serverTimeMs: event.serverTimeMs, duplicate: false });
      if (pushed) this.ackInOrder(event.conversationId, event.seq);
      return;
    }
    const outcome = this.ordering.observe(event.conversationId, event.seq, event, via);
    if (outcome === 'duplicate' && pushed) this.ackInOrder(event.conversationId, event.seq);
  }

  /** As the SDK: a pushed copy is acked as far as it is in order (Ordering.ackableThrough). */
  private ackInOrder(conversationId: ConversationId, seq: Seq): void {
    const through = this.ordering.ackableThrough(conversationId, seq);
    if (through > 0) this.queueAck(conversationId, through);
  }

  private onQueued(frame: ServerFrameOf<'queued'>): void {
    const send = this.outbox.get(frame.clientMessageId);
    if (!send || send.conversationId !== frame.conversationId || send.queued) return;
    send.queued = true;
    this.host.record({
      type: 'queued',
      atMs: this.host.time.nowMs(),
      userId: this.userId,
      deviceId: this.deviceId,
      conversationId: frame.conversationId,
      clientMessageId: frame.clientMessageId,
    });
  }

  private onSent(frame: ServerFrameOf<'sent'>): void {
    const send = this.outbox.get(frame.clientMessageId);
    if (send && send.conversationId === frame.conversationId) this.outbox.delete(frame.clientMessageId);
    const accepted = send && send.conversationId === frame.conversationId ? send : undefined;
    // Until its ack is recorded (in order), the send is held: a session that ends first keeps it.
    if (accepted) (this.heldAcks ??= new Map()).set(accepted.clientMessageId, accepted);
    const recordAck = accepted
      ? () => {
          this.heldAcks?.delete(accepted.clientMessageId);
          this.host.record({
            type: 'ack',
            atMs: this.host.time.nowMs(),
            userId: this.userId,
            deviceId: this.deviceId,
            conversationId: frame.conversationId,
            clientMessageId: frame.clientMessageId,
            seq: frame.seq,
          });
          this.host.messageAcked(this, accepted, frame.seq);
        }
      : undefined;
    this.ordering.observe(frame.conversationId, frame.seq, undefined, 'live', recordAck);
  }

  private onError(frame: ServerFrameOf<'error'>): void {
    if (frame.inReplyTo === 'auth' || frame.rid === 'auth') {
      // Could not sign in (storage down, …): the server closes; we reconnect after backoff.
      return;
    }
    const rid = frame.rid;
    if (rid === undefined) return;
    const upload = this.uploads?.get(rid);
    if (upload) {
      this.uploads!.delete(rid);
      upload(undefined);
      return;
    }
    const sync = this.syncs?.get(rid);
    if (sync) {
      this.syncs!.delete(rid);
      this.ordering.syncFinished(sync.conversationId, false);
      const generation = this.generation;
      this.host.time.schedule(frame.retryAfterMs ?? this.host.retryDelayMs, () => {
        if (generation === this.generation && this.state === 'connected') this.ordering.retryWanted();
      });
      return;
    }
    for (const send of this.outbox.values()) {
      if (send.rid !== rid) continue;
      if (frame.retryable) {
        this.retryLater(send, frame.retryAfterMs ?? this.host.retryDelayMs);
      } else {
        this.outbox.delete(send.clientMessageId);
        this.ordering.sendSettled(send.conversationId);
        this.host.sendRejected(this, send, frame.code);
      }
      return;
    }
  }

  private onSyncPage(page: ServerFrameOf<'sync_result'>): void {
    const request = this.syncs?.get(page.rid);
    if (!request) return;
    this.syncs!.delete(page.rid);
    for (const event of page.events) this.onEvent(event, 'sync', false);
    const lastSeq = page.events[page.events.length - 1]?.seq;
    if (page.hasMore && lastSeq !== undefined && lastSeq > request.afterSeq) {
      if (this.requestSync(page.conversationId, lastSeq)) return;
      this.ordering.syncFinished(page.conversationId, false);
      return;
    }
    this.ordering.syncFinished(page.conversationId, true);
  }

  // ---------- OrderingSink ----------

  deliver(event: ConversationEvent, via: Via): void {
    this.host.record(deliverRecord(this.host.time.nowMs(), this, event, via));
    if (event.kind === 'message') this.host.messageDelivered(this, event, via);
    this.queueAck(event.conversationId, event.seq);
  }

  requestSync(conversationId: ConversationId, afterSeq: Seq, fromLink = false): boolean {
    if (this.state !== 'connected') return false;
    const rid = `y${++this.ridCounter}`;
    (this.syncs ??= new Map()).set(rid, { conversationId, afterSeq });
    this.write('sync', fromLink ? { type: 'sync', rid, conversationId, afterSeq, fromLink } : { type: 'sync', rid, conversationId, afterSeq });
    return true;
  }

  hasPendingSend(conversationId: ConversationId): boolean {
    // As the SDK (Outbox.awaitsAnswer): a queued send's seq comes as its own copy or by sync.
    for (const send of this.outbox.values()) if (send.conversationId === conversationId && !send.queued) return true;
    return false;
  }

  // ---------- actions ----------

  /** Sends a chat message (now, or when connected). */
  send(conversationId: ConversationId, body: string, media?: MediaRef): void {
    const now = this.host.time.nowMs();
    // The first-send time travels in the id, as a load driver stamps its payloads: any device
    // that receives the message can compute send→deliver latency without shared state.
    const clientMessageId = `${this.userIndex}.${this.deviceId}.${++this.counter}.${Math.round(now)}`;
    const send: PendingSend = { conversationId, clientMessageId, body, media, attempt: 0, rid: '', firstSentAtMs: now };
    this.outbox.set(clientMessageId, send);
    if (this.state === 'connected') this.transmit(send);
  }

  /** Marks the conversation read up to seq (cumulative). */
  read(conversationId: ConversationId, seq: Seq): void {
    if (this.state === 'connected') this.write('read', { type: 'read', conversationId, seq });
  }

  /** Asks for a signed upload URL, then calls back with the object key (or undefined on failure). */
  requestUpload(conversationId: ConversationId, sizeBytes: number, done: (objectKey: string | undefined) => void): void {
    if (this.state !== 'connected') {
      done(undefined);
      return;
    }
    const rid = `m${++this.ridCounter}`;
    (this.uploads ??= new Map()).set(rid, done);
    // Simulated media has no bytes; the simulated store keeps sizes only and ignores the checksum.
    this.write('media_upload', { type: 'media_upload', rid, conversationId, sizeBytes, contentType: 'image/jpeg', sha256: SIMULATED_MEDIA_SHA256 });
  }

  /** Upload-URL requests in flight by rid; created on first use. */
  private uploads: Map<string, (objectKey: string | undefined) => void> | undefined;

  private onMediaUrl(frame: ServerFrameOf<'media_url'>): void {
    const done = this.uploads?.get(frame.rid);
    if (!done) return;
    this.uploads!.delete(frame.rid);
    done(frame.objectKey);
  }

  private transmit(send: PendingSend): void {
    if (this.state !== 'connected') return;
    send.attempt++;
    send.rid = `s${++this.ridCounter}`;
    this.host.record({
      type: 'send',
      atMs: this.host.time.nowMs(),
      userId: this.userId,
      deviceId: this.deviceId,
      conversationId: send.conversationId,
      clientMessageId: send.clientMessageId,
      attempt: send.attempt,
    });
    const frame: Record<string, unknown> = {
      type: 'send',
      rid: send.rid,
      conversationId: send.conversationId,
      clientMessageId: send.clientMessageId,
      body: send.body,
    };
    if (send.media) frame.media = send.media;
    this.write('send', frame);
    // A queued message is durable on a gateway already: this re-send (after a reconnect) only puts
    // it ahead of newer ones, so no timer repeats it.
    if (send.queued) return;
    const attempt = send.attempt;
    const generation = this.generation;
    this.host.time.schedule(this.host.sendTimeoutMs, () => {
      if (generation === this.generation && send.attempt === attempt && this.outbox.get(send.clientMessageId) === send) this.transmit(send);
    });
  }

  private retryLater(send: PendingSend, delayMs: number): void {
    const attempt = send.attempt;
    const generation = this.generation;
    this.host.time.schedule(delayMs, () => {
      if (generation === this.generation && send.attempt === attempt && this.outbox.get(send.clientMessageId) === send) this.transmit(send);
    });
  }

  private queueAck(conversationId: ConversationId, seq: Seq): void {
    if (this.state !== 'connected') return;
    let batch = this.pendingAcks;
    if (!batch) {
      const fresh = new Map<ConversationId, Seq>();
      batch = fresh;
      this.pendingAcks = fresh;
      const generation = this.generation;
      // One ack per conversation per instant: acks are cumulative.
      this.host.time.schedule(0, () => {
        if (generation !== this.generation || this.pendingAcks !== fresh) return;
        this.pendingAcks = undefined;
        for (const [c, s] of fresh) this.write('ack', { type: 'ack', conversationId: c, seq: s });
      });
    }
    const previous = batch.get(conversationId);
    if (previous === undefined || seq > previous) batch.set(conversationId, seq);
  }

  private write(type: string, frame: Record<string, unknown>): void {
    this.connection?.fromClient(type, JSON.stringify(frame));
  }
}

/** Receipt watermarks are packed as read × span + delivered (seqs of one conversation stay far below 2^26). */
const RECEIPT_SEQ_SPAN = 2 ** 26;

/** As the SDK's connectTimeoutMs default. */
const CONNECT_TIMEOUT_MS = 10_000;
/** The `sha256` a virtual device declares on media_upload (of the empty string; it is never checked). */
const SIMULATED_MEDIA_SHA256 = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';

/** The protocol's heartbeat interval (welcome frames carry it; every simulated gateway uses the default). */
export const HEARTBEAT_INTERVAL_MS = 30_000;

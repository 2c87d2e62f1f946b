import type { ConversationEvent, MediaRef } from '../system/core/events.js';
import type { ClientMessageId, ConversationId, DeviceId, Seq, UserId } from '../system/core/ids.js';
import type { ClientFrame, ClientFrameOf, ServerFrameOf, ServerFrameType } from '../system/protocol/frames.js';
import { ClientCore, closedError } from './core/client-core.js';
import type { MlsMarker, PendingSend, SendResult } from './core/outbox.js';
import type { ClientCoreHost, ConnectionState, DisconnectInfo, PresenceInfo, ReceiptInfo, ResetInfo, WelcomeInfo } from './core/ports.js';
import { Emitter } from './emitter.js';
import { bodyToBase64 } from './encoding.js';
import { toChatClientError, type ChatClientError } from './errors.js';
import type { Via } from './ordering.js';
import { resolveOptions, type ChatClientOptions, type ResolvedOptions } from './options.js';
import type { ClientTransport } from './transport.js';

export type { ConnectionState, DisconnectInfo, MlsMarker, PresenceInfo, ReceiptInfo, ResetInfo, WelcomeInfo };
export type SyncPage = ServerFrameOf<'sync_result'>;
export type HistoryPage = ServerFrameOf<'history_result'>;
export type ConversationSummary = ServerFrameOf<'conversations_result'>['conversations'][number];
export type DeviceReceipts = ServerFrameOf<'receipts_result'>['devices'][number];
export type MediaUrl = ServerFrameOf<'media_url'>;
/** This device's KeyPackages in the MLS key directory. */
export type KeyPackageStatus = Omit<ServerFrameOf<'kp_status'>, 'type' | 'rid'>;
export type ClaimedKeyPackages = Omit<ServerFrameOf<'kp_claimed'>, 'type' | 'rid'>;
export interface GroupChange {
  conversationId: ConversationId;
  /** Seq of the membership event the change produced. */
  seq: Seq;
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

export interface SendOptions {
  /** The idempotency key; generated when absent. Re-using one after a restart is safe. */
  clientMessageId?: ClientMessageId;
  media?: MediaRef;
  /** MLS metadata of the body; a commit is accepted only in the conversation's current epoch. */
  mls?: MlsMarker;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/**
 * The reference client: one device's connection to the chat system, with everything a real app
 * needs to never lose, duplicate or reorder a message across reconnects. The protocol logic is
 * the sans-I/O ClientCore (core/client-core.ts: auth, heartbeats, reconnect backoff, `goaway`,
 * ordering and gap sync, the outbox, cumulative acks, receipts, error routing); this class is its
 * face for apps: promises for connect, sends and requests, an event emitter, and a transport per
 * connection (`ws` by default).
 *
 * Time, randomness and the transport are injected, so the same client runs on real sockets, in
 * virtual time, and thousands to a process in the load driver. The simulator's virtual devices
 * run the same core without this class.
 */
export class ChatClient extends Emitter<ChatClientEvents> {
  private readonly o: ResolvedOptions;
  private readonly core: ClientCore;
  private transport: ClientTransport | undefined;
  private connectWaiter: Deferred<WelcomeInfo> | undefined;
  private welcomeFrame: WelcomeInfo | undefined;
  /** The promise of each send still in the core's outbox. */
  private readonly sendWaiters = new Map<PendingSend, Deferred<SendResult>>();
  private presenceSubscriptions: Set<UserId> | undefined;

  constructor(options: ChatClientOptions) {
    super();
    this.o = resolveOptions(options);
    this.core = new ClientCore(this.coreHost(), this.o, { cursors: options.cursors, incarnation: options.incarnation });
  }

  // ---------- state ----------

  get state(): ConnectionState {
    return this.core.state;
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
    return this.core.pendingSendCount;
  }

  /**
   * The incarnation of the server log this client's cursors belong to (from the last welcome that
   * named one). Persist it with getCursors() and pass both back as options.
   */
  get incarnation(): string | undefined {
    return this.core.incarnation;
  }

  /** Highest seq observed in order, per conversation: persist it to resume after a restart. */
  getCursors(): Record<ConversationId, Seq> {
    return this.core.cursors();
  }

  getCursor(conversationId: ConversationId): Seq | undefined {
    return this.core.cursor(conversationId);
  }

  // ---------- connection lifecycle ----------

  /**
   * Connects and authenticates; resolves with the server's welcome. Failed attempts are retried
   * with backoff (emitting 'error') up to maxReconnectAttempts; the promise rejects on a fatal
   * auth error (TOKEN_INVALID, TOKEN_EXPIRED, DEVICE_UNKNOWN, UNSUPPORTED_VERSION, ...), when
   * attempts run out, or on close(). Calling it again while connecting returns the same promise.
   */
  connect(): Promise<WelcomeInfo> {
    const welcome = this.welcomeFrame;
    if (this.core.state === 'closed') return Promise.reject(closedError());
    if (this.core.state === 'connected' && welcome) return Promise.resolve(welcome);
    const waiter = (this.connectWaiter ??= deferred<WelcomeInfo>());
    this.core.connect();
    return waiter.promise;
  }

  /**
   * Stops for good: closes the connection, cancels every timer, stops reconnecting, and rejects
   * pending sends and requests with CLOSED. A closed client cannot be reconnected; construct a
   * new one (with getCursors()) instead.
   */
  close(): void {
    this.core.close(closedError(), false);
  }

  /** The ports the core runs on: this client's clock, random, transport and emitter. */
  private coreHost(): ClientCoreHost {
    return {
      clock: this.o.clock,
      random: this.o.random,
      openConnection: (connectionId, url) => void this.openTransport(connectionId, url ?? this.o.urls[0]!),
      closeConnection: (code, reason) => this.closeTransport(code, reason),
      writeFrame: (_type, text) => this.transport?.send(text),
      watchedUsers: () => this.presenceSubscriptions,
      connected: (welcome, reset) => {
        this.welcomeFrame = welcome;
        if (reset) this.emit('reset', reset);
        const waiter = this.connectWaiter;
        this.connectWaiter = undefined;
        waiter?.resolve(welcome);
        this.emit('connected', welcome);
      },
      disconnected: (info) => this.emit('disconnected', info),
      delivered: (event, via) => this.emit('event', event, via),
      sendAccepted: (send, result) => {
        this.emit('sent', result);
        this.takeSendWaiter(send)?.resolve(result);
      },
      sendQueued: (send, serverTimeMs) =>
        this.emit('queued', { conversationId: send.conversationId, clientMessageId: send.clientMessageId, serverTimeMs }),
      sendRetrying: (send, error, delayMs) =>
        this.emit('retrying', {
          conversationId: send.conversationId,
          clientMessageId: send.clientMessageId,
          code: error.code,
          retryAfterMs: delayMs,
        }),
      sendFailed: (send, error, stopping) => {
        const waiter = this.takeSendWaiter(send);
        if (!waiter) return;
        // Stopping is deliberate (close()) or reported as 'error': abandoned sends must not also
        // crash a fire-and-forget caller as unhandled rejections.
        if (stopping) waiter.promise.catch(ignore);
        waiter.reject(error);
      },
      receipt: (receipt) => this.emit('receipt', receipt),
      presence: (presence) => this.emit('presence', presence),
      error: (error) => this.emit('error', error),
      stopped: (error) => {
        const waiter = this.connectWaiter;
        this.connectWaiter = undefined;
        if (waiter) {
          waiter.promise.catch(ignore);
          waiter.reject(error);
        }
      },
    };
  }

  /** Gets a token, opens a transport to `url`, and reports to the core (which ignores a connection it has abandoned). */
  private async openTransport(connectionId: number, url: string): Promise<void> {
    try {
      const token = typeof this.o.token === 'string' ? this.o.token : await this.o.token();
      if (connectionId !== this.core.connectionId) return;
      const transport = this.o.transportFactory();
      this.transport = transport;
      transport.onMessage((text) => this.core.receiveText(connectionId, text));
      transport.onClose((code, reason) => this.core.connectionClosed(connectionId, code, reason));
      await transport.open(url);
      // Abandoned while opening (close(), timeout): the core closed it already and ignores this.
      this.core.connectionOpened(connectionId, token);
    } catch (error) {
      this.core.connectionFailed(connectionId, toChatClientError(error, 'CONNECT_FAILED'));
    }
  }

  private closeTransport(code: number, reason: string): void {
    const transport = this.transport;
    this.transport = undefined;
    if (!transport) return;
    try {
      transport.close(code, reason);
    } catch {
      // Already closed, or broken: either way it is gone.
    }
  }

  // ---------- acks and reads ----------

  /** Acknowledges delivery up to seq (only needed with autoAck: false). Dropped when offline. */
  ack(conversationId: ConversationId, seq: Seq): void {
    this.core.ack(conversationId, seq);
  }

  /** Marks the conversation read up to seq; kept and sent on reconnect when offline. */
  markRead(conversationId: ConversationId, seq: Seq): void {
    this.core.markRead(conversationId, seq);
  }

  // ---------- sending messages ----------

  /**
   * Sends a message. Resolves when the server has stored it (with its seq); until then it is
   * re-sent with the same clientMessageId after every send timeout and every reconnect, so it
   * is stored exactly once. Rejects on a non-retryable error frame (NOT_A_MEMBER,
   * MESSAGE_TOO_LARGE, IDEMPOTENCY_CONFLICT, ...), when its frame exceeds the server's
   * frameBytesMax (FRAME_TOO_LARGE), or on close(). Works while disconnected: the message goes
   * out when the connection is (re)established.
   */
  send(conversationId: ConversationId, body: Uint8Array | string, options: SendOptions = {}): Promise<SendResult> {
    if (this.core.state === 'closed') return Promise.reject(closedError());
    if (options.clientMessageId !== undefined) {
      const existing = this.core.findSend(conversationId, options.clientMessageId);
      const waiter = existing && this.sendWaiters.get(existing);
      if (waiter) return waiter.promise;
    }
    const send = this.core.newSend(conversationId, bodyToBase64(body), options);
    const waiter = deferred<SendResult>();
    this.sendWaiters.set(send, waiter);
    this.core.submit(send);
    return waiter.promise;
  }

  private takeSendWaiter(send: PendingSend): Deferred<SendResult> | undefined {
    const waiter = this.sendWaiters.get(send);
    if (waiter) this.sendWaiters.delete(send);
    return waiter;
  }

  // ---------- requests ----------

  /**
   * Fetches events after afterSeq (default: this client's cursor). New events are also handed
   * to the app through the ordering path, like any other sync.
   */
  sync(conversationId: ConversationId, afterSeq?: Seq, limit?: number): Promise<SyncPage> {
    const rid = this.core.nextRid();
    const frame: ClientFrameOf<'sync'> = {
      type: 'sync',
      rid,
      conversationId,
      afterSeq: afterSeq ?? this.core.cursor(conversationId) ?? 0,
    };
    if (limit !== undefined) frame.limit = limit;
    return this.request(frame, 'sync_result', (page) => this.core.observeFetched(page.events));
  }

  /**
   * A page of older events (ascending), before beforeSeq (default: the newest). Events the app
   * has not seen yet are handed to it through the ordering path as well.
   */
  history(conversationId: ConversationId, options: { beforeSeq?: Seq; limit?: number } = {}): Promise<HistoryPage> {
    const frame: ClientFrameOf<'history'> = { type: 'history', rid: this.core.nextRid(), conversationId };
    if (options.beforeSeq !== undefined) frame.beforeSeq = options.beforeSeq;
    if (options.limit !== undefined) frame.limit = options.limit;
    return this.request(frame, 'history_result', (page) => this.core.observeFetched([...page.events].sort((a, b) => a.seq - b.seq)));
  }

  async conversations(): Promise<ConversationSummary[]> {
    const frame = await this.request({ type: 'conversations', rid: this.core.nextRid() }, 'conversations_result');
    return frame.conversations;
  }

  async receipts(conversationId: ConversationId): Promise<DeviceReceipts[]> {
    const frame = await this.request({ type: 'receipts', rid: this.core.nextRid(), conversationId }, 'receipts_result');
    return frame.devices;
  }

  createGroup(name: string, members: UserId[]): Promise<GroupChange> {
    return this.groupRequest({ type: 'group_create', rid: this.core.nextRid(), name, members });
  }

  addMembers(conversationId: ConversationId, userIds: UserId[]): Promise<GroupChange> {
    return this.groupRequest({ type: 'group_add', rid: this.core.nextRid(), conversationId, userIds });
  }

  removeMember(conversationId: ConversationId, userId: UserId): Promise<GroupChange> {
    return this.groupRequest({ type: 'group_remove', rid: this.core.nextRid(), conversationId, userId });
  }

  leaveGroup(conversationId: ConversationId): Promise<GroupChange> {
    return this.groupRequest({ type: 'group_leave', rid: this.core.nextRid(), conversationId });
  }

  setAdmin(conversationId: ConversationId, userId: UserId, admin: boolean): Promise<GroupChange> {
    return this.groupRequest({ type: 'group_admin', rid: this.core.nextRid(), conversationId, userId, admin });
  }

  /** Watches users' presence; the subscription is renewed on every reconnect. */
  async subscribePresence(userIds: UserId[]): Promise<void> {
    await this.request({ type: 'presence_subscribe', rid: this.core.nextRid(), userIds }, 'ok');
    const subscriptions = (this.presenceSubscriptions ??= new Set());
    for (const userId of userIds) subscriptions.add(userId);
  }

  async unsubscribePresence(userIds: UserId[]): Promise<void> {
    for (const userId of userIds) this.presenceSubscriptions?.delete(userId);
    await this.request({ type: 'presence_unsubscribe', rid: this.core.nextRid(), userIds }, 'ok');
  }

  /** Registers (or, with null, removes) this device's push token. */
  async setPushToken(token: string | null): Promise<void> {
    await this.request({ type: 'push_token', rid: this.core.nextRid(), token }, 'ok');
  }

  async unlinkDevice(deviceId: DeviceId): Promise<void> {
    await this.request({ type: 'device_unlink', rid: this.core.nextRid(), deviceId }, 'ok');
  }

  /**
   * A signed URL to PUT media into the conversation: it takes only the bytes whose SHA-256
   * (base64) is `sha256`, once (see uploadMedia in media.ts, which computes it).
   */
  requestUpload(conversationId: ConversationId, sizeBytes: number, contentType: string, sha256: string): Promise<MediaUrl> {
    return this.request({ type: 'media_upload', rid: this.core.nextRid(), conversationId, sizeBytes, contentType, sha256 }, 'media_url');
  }

  /** A signed URL to GET media of the conversation (see downloadMedia in media.ts). */
  requestDownload(conversationId: ConversationId, objectKey: string): Promise<MediaUrl> {
    return this.request({ type: 'media_download', rid: this.core.nextRid(), conversationId, objectKey }, 'media_url');
  }

  /** Uploads this device's MLS KeyPackages (encoded, base64) to the key directory. */
  async uploadKeyPackages(keyPackages: string[], lastResort?: string): Promise<KeyPackageStatus> {
    const frame: ClientFrameOf<'kp_upload'> = { type: 'kp_upload', rid: this.core.nextRid(), keyPackages };
    if (lastResort !== undefined) frame.lastResort = lastResort;
    const { available, lastResort: hasLastResort } = await this.request(frame, 'kp_status');
    return { available, lastResort: hasLastResort };
  }

  /** How many of this device's single-use KeyPackages are unclaimed. */
  async countKeyPackages(): Promise<KeyPackageStatus> {
    const { available, lastResort } = await this.request({ type: 'kp_count', rid: this.core.nextRid() }, 'kp_status');
    return { available, lastResort };
  }

  /** Claims one KeyPackage per device of each user, skipping `exceptDevices` and this device. */
  async claimKeyPackages(userIds: UserId[], exceptDevices?: Array<{ userId: UserId; deviceId: DeviceId }>): Promise<ClaimedKeyPackages> {
    const frame: ClientFrameOf<'kp_claim'> = { type: 'kp_claim', rid: this.core.nextRid(), userIds };
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
    return new Promise<ServerFrameOf<T>>((resolve, reject) => {
      this.core.request(
        frame,
        expect,
        (answer) => {
          tap?.(answer);
          resolve(answer);
        },
        reject,
      );
    });
  }

  protected override listenerFailed(name: string, error: unknown): void {
    if (name === 'error') {
      super.listenerFailed(name, error);
      return;
    }
    this.emit('error', toChatClientError(error, 'LISTENER_ERROR'));
  }
}

function ignore(): void {}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

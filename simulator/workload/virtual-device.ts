import { ClientCore } from '../../sdk/core/client-core.js';
import type { PendingSend } from '../../sdk/core/outbox.js';
import type { ClientCoreConfig, ClientCoreHost, PresenceInfo, SavedClientState } from '../../sdk/core/ports.js';
import { ChatClientError } from '../../sdk/errors.js';
import type { Via } from '../../sdk/ordering.js';
import type { Scheduler } from '../../system/adapters/virtual/scheduler.js';
import type { ConversationEvent, MediaRef } from '../../system/core/events.js';
import type { ConversationId, Seq } from '../../system/core/ids.js';
import type { Clock } from '../../system/ports/clock.js';
import type { Random } from '../../system/ports/random.js';
import type { ClientFrameType, ServerFrame } from '../../system/protocol/frames.js';
import type { ClientEndpoint, SimConnection } from '../../system/worlds/simulated/sim-connection.js';

export type { PendingSend };

/** What a device keeps while offline: what its client core saves (an app persists it), and its message counter. */
export interface PersistedDevice extends SavedClientState {
  counter: number;
}

/** What devices need from the simulation around them (one object for every device). */
export interface DeviceHost {
  readonly time: Scheduler;
  /** The client core's configuration, shared by every device (the scenario's client settings). */
  readonly clientConfig: ClientCoreConfig;
  /** Virtual time as the core reads it (ms since the run started; timers on the scheduler). */
  readonly clock: Clock;
  /** The workload's seeded stream (reconnect and retry jitter). */
  readonly random: Random;
  /** Opens a connection on some live gateway for attempt number `attempt` (undefined: none reachable). */
  connect(device: VirtualDevice, attempt: number): SimConnection | undefined;
  /** One extra round trip for TCP/TLS/WebSocket set-up before the first frame. */
  handshakeMs(): number;
  /** A fresh token (issued now: a device signing in again after an unlink needs one). Settles within the instant. */
  token(device: VirtualDevice): Promise<string>;
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

/** Reported to the core when every gateway is down or cut off (one instance: nobody reads its stack). */
const NO_GATEWAY = new ChatClientError('CONNECT_FAILED', 'no reachable gateway');

/** The `sha256` a virtual device declares on media_upload (of the empty string; it is never checked). */
const SIMULATED_MEDIA_SHA256 = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';

/**
 * A virtual client: the SDK's own client core (sdk/core/client-core.ts: order and de-duplication,
 * gap and link-point sync, the outbox re-sent with the same clientMessageId, cumulative acks,
 * receipts, heartbeats, reconnect backoff, `goaway`, error routing) on a SimConnection, in
 * virtual time, with the workload's seeded random. This class only plugs the core's ports into
 * the simulation (connections, handshake delay, tokens, measurements) and keeps no protocol
 * logic of its own. It exists only while its device is online; offline, the workload keeps a
 * PersistedDevice (cursors, outbox, receipt watermarks) at most.
 */
export class VirtualDevice implements ClientCoreHost, ClientEndpoint {
  readonly userId: string;
  readonly deviceId: string;
  private readonly core: ClientCore;
  private connection: SimConnection | undefined;
  counter: number;
  /** Bytes/s this device reads at while a slow_consumer fault covers it (0 = normal). */
  slowReadBytesPerS = 0;

  constructor(
    private readonly host: DeviceHost,
    readonly index: number,
    readonly userIndex: number,
    deviceNo: number,
    persisted: PersistedDevice | undefined,
  ) {
    this.userId = `u${userIndex}`;
    this.deviceId = `d${deviceNo}`;
    this.counter = persisted?.counter ?? 0;
    this.core = new ClientCore(this, host.clientConfig, persisted);
  }

  get clock(): Clock {
    return this.host.clock;
  }

  get random(): Random {
    return this.host.random;
  }

  get isConnected(): boolean {
    return this.core.isConnected;
  }

  get hasPendingSends(): boolean {
    return this.core.pendingSendCount > 0;
  }

  /** Requests in flight (sync pages, upload URLs). */
  get pendingSyncs(): number {
    return this.core.pendingRequestCount;
  }

  cursor(conversationId: ConversationId): Seq | undefined {
    return this.core.cursor(conversationId);
  }

  /** What to keep while offline; undefined when there is nothing (most devices). */
  persist(): PersistedDevice | undefined {
    const saved = this.core.save();
    if (saved.outbox.length === 0 && this.counter === 0 && !saved.receiptMarks) {
      let any = false;
      for (const _ in saved.cursors) {
        any = true;
        break;
      }
      if (!any) return undefined;
    }
    // One object literal per shape (a spread would build a slower, larger one): offline devices add up.
    const { cursors, outbox, incarnation, receiptMarks } = saved;
    return receiptMarks
      ? { cursors, outbox, incarnation, counter: this.counter, receiptMarks }
      : { cursors, outbox, incarnation, counter: this.counter };
  }

  /** slow_consumer: from now on this device reads its socket at `bytesPerS` (0 = normally). */
  setSlowRead(bytesPerS: number): void {
    this.slowReadBytesPerS = bytesPerS;
    if (this.connection) this.connection.readBytesPerS = bytesPerS;
  }

  // ---------- what the workload does ----------

  start(): void {
    this.core.connect();
  }

  /** The session ended: the app closes the connection (unsent messages stay in the outbox). */
  stop(): void {
    this.core.suspend();
  }

  /** Sends a chat message (now, or when connected). */
  send(conversationId: ConversationId, body: string, media?: MediaRef): void {
    // The first-send time travels in the id, as a load driver stamps its payloads: any device
    // that receives the message can compute send→deliver latency without shared state.
    const clientMessageId = `${this.userIndex}.${this.deviceId}.${++this.counter}.${Math.round(this.host.time.nowMs())}`;
    this.core.submit(this.core.newSend(conversationId, body, { clientMessageId, media }));
  }

  /** Marks the conversation read up to seq (cumulative). */
  read(conversationId: ConversationId, seq: Seq): void {
    this.core.markRead(conversationId, seq);
  }

  /** Asks for a signed upload URL, then calls back with the object key (or undefined on failure). */
  requestUpload(conversationId: ConversationId, sizeBytes: number, done: (objectKey: string | undefined) => void): void {
    // Simulated media has no bytes; the simulated store keeps sizes only and ignores the checksum.
    const frame = {
      type: 'media_upload' as const,
      rid: this.core.nextRid(),
      conversationId,
      sizeBytes,
      contentType: 'image/jpeg',
      sha256: SIMULATED_MEDIA_SHA256,
    };
    this.core.request(
      frame,
      'media_url',
      (answer) => done(answer.objectKey),
      () => done(undefined),
    );
  }

  // ---------- ClientEndpoint: what the simulated connection reports ----------

  // A simulated connection reports nothing once the device closed it: what it reports is about
  // the core's current connection.
  onFrame(frame: ServerFrame): void {
    this.core.receiveFrame(this.core.connectionId, frame);
  }

  onClosed(code: number, reason: string): void {
    // A close always finds its connection closed already; one reported while the current
    // connection is open belongs to an earlier one (a cut noticed late).
    if (this.connection?.isOpen) return;
    this.core.connectionClosed(this.core.connectionId, code, reason);
  }

  // ---------- ClientCoreHost: the core's ports ----------

  openConnection(connectionId: number, _url: string | undefined, attempt: number): void {
    const conn = this.host.connect(this, attempt);
    if (!conn) {
      this.core.connectionFailed(connectionId, NO_GATEWAY);
      return;
    }
    this.connection = conn;
    conn.readBytesPerS = this.slowReadBytesPerS;
    this.host.time.schedule(this.host.handshakeMs(), () => {
      if (this.connection !== conn) return;
      void this.host.token(this).then((token) => {
        if (this.connection === conn) this.core.connectionOpened(connectionId, token);
      });
    });
  }

  closeConnection(): void {
    const conn = this.connection;
    this.connection = undefined;
    conn?.clientClose();
  }

  writeFrame(type: ClientFrameType, text: string): void {
    this.connection?.fromClient(type, text);
  }

  watchedUsers(): string[] {
    return this.host.presenceTargets(this);
  }

  connected(): void {
    this.host.connected(this);
  }

  disconnected(): void {
    this.host.disconnected(this);
  }

  delivered(event: ConversationEvent, via: Via): void {
    if (event.kind === 'message') this.host.messageDelivered(this, event, via);
  }

  sendAccepted(send: PendingSend, result: { seq: Seq }): void {
    this.host.messageAcked(this, send, result.seq);
  }

  sendFailed(send: PendingSend, error: ChatClientError): void {
    this.host.sendRejected(this, send, error.code);
  }

  presence(presence: PresenceInfo): void {
    this.host.presenceSeen(this, presence.userId, presence.online);
  }

  // Nothing for the workload to do: the core has recorded what the checker needs.
  sendQueued(): void {}
  sendRetrying(): void {}
  receipt(): void {}
  error(): void {}
  stopped(): void {}
}

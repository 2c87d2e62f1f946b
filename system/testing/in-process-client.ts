/**
 * An in-process test harness in the spirit of fastify's `inject()`: sessions are opened on a real
 * GatewayNode of an embedded world, but with no sockets. A FakeConnection stands in for the
 * socket (it records every frame the server sends and lets a test play the transport: buffered
 * bytes, paused reading, close), and an InProcessClient plays the client side of the protocol.
 *
 * Everything is deterministic: worlds run on a ManualClock and a SeededRandom, and nothing here
 * sleeps on a real timer. Waiting means letting pending promise chains settle (setImmediate
 * turns); time moves only when a test calls `world.clock.advance(ms)`.
 */
import type { ConversationEvent } from '../core/events.js';
import type { ConversationId, Seq } from '../core/ids.js';
import type { Limits } from '../core/limits.js';
import { ManualClock } from '../adapters/virtual/manual-clock.js';
import type { TokenSettings } from '../adapters/jwt/jwt-settings.js';
import { SelfReleasingGate } from '../adapters/virtual/held-token-authority.js';
import { SeededRandom } from '../adapters/virtual/seeded-random.js';
import type { Session } from '../gateway/session.js';
import type { Connection } from '../ports/connection.js';
import type { Logger } from '../ports/logger.js';
import type { Metrics } from '../ports/metrics.js';
import type { ServerFrame, ServerFrameOf, ServerFrameType } from '../protocol/frames.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { buildEmbeddedWorld, type EmbeddedWorld } from '../worlds/embedded-world.js';

// ---------- worlds ----------

export interface TestWorldOptions {
  limits?: Partial<Limits>;
  /** Seed of the world's SeededRandom (group ids, media keys). */
  seed?: number;
  /** The ManualClock's start time. */
  startMs?: number;
  tokenSecret?: string;
  /** How tokens are signed and checked; default HS256 with tokenSecret. */
  tokens?: TokenSettings;
  nodeId?: string;
  peerUrls?: string[];
  metrics?: Metrics;
  log?: Logger;
}

export type TestWorld = EmbeddedWorld & { clock: ManualClock; random: SeededRandom };

/** An embedded world on a ManualClock and a SeededRandom. */
export function createTestWorld(options: TestWorldOptions = {}): TestWorld {
  const clock = new ManualClock(options.startMs);
  const random = new SeededRandom(options.seed ?? 1);
  const world = buildEmbeddedWorld({
    clock,
    random,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.tokenSecret ? { tokenSecret: options.tokenSecret } : {}),
    ...(options.tokens ? { tokens: options.tokens } : {}),
    tokenGate: tokenWork,
    ...(options.nodeId ? { nodeId: options.nodeId } : {}),
    ...(options.peerUrls ? { peerUrls: options.peerUrls } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  return { ...world, clock, random };
}

/** A Logger that keeps what it is told (tests assert that nothing was logged as an error). */
export class RecordingLogger implements Logger {
  readonly entries: Array<{ level: 'info' | 'warn' | 'error'; message: string; fields?: Record<string, unknown> }> = [];

  info(message: string, fields?: Record<string, unknown>): void {
    this.entries.push(fields ? { level: 'info', message, fields } : { level: 'info', message });
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.entries.push(fields ? { level: 'warn', message, fields } : { level: 'warn', message });
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.entries.push(fields ? { level: 'error', message, fields } : { level: 'error', message });
  }

  get errors() {
    return this.entries.filter((e) => e.level === 'error');
  }
}

/**
 * Token signing and checking run on WebCrypto's thread pool and may take any number of event-loop
 * turns; test worlds hold that work here, released in call order (so runs are repeatable), and
 * settle() waits for it.
 */
const tokenWork = new SelfReleasingGate();

/**
 * Lets every pending promise chain settle. Each setImmediate turn runs after the microtask queue
 * has drained (and after any token work has finished); the in-memory stores never wait on real
 * I/O, so a few turns reach quiescence.
 */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) {
    await tokenWork.idle();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Moves the world's clock forward in steps, running `each` (e.g. heartbeats) after every step. */
export async function advanceInSteps(world: TestWorld, totalMs: number, stepMs: number, each?: () => Promise<void> | void): Promise<void> {
  let remaining = totalMs;
  while (remaining > 0) {
    const step = Math.min(stepMs, remaining);
    await world.clock.advance(step);
    remaining -= step;
    if (each) await each();
    await settle(2);
  }
}

/** Base64 of a UTF-8 string (message bodies are opaque base64 on the wire). */
export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** Makes the user exist (one linked device) without opening a connection for it. */
export async function registerUser(world: TestWorld, userId: string, deviceId = 'd1'): Promise<void> {
  const { token } = await world.core.auth.issueToken({ userId, deviceId });
  await world.core.auth.authenticate(token);
}

// ---------- the fake transport ----------

export interface FakeConnectionOptions {
  /**
   * 'manual' (default): bufferedBytes is whatever the test set. 'accumulate': every frame sent
   * adds its encoded size, as a socket that never drains would, until the test calls drain().
   */
  buffering?: 'manual' | 'accumulate';
}

/** The Connection port without a socket: records frames and plays the transport's part. */
export class FakeConnection implements Connection {
  /** Every frame the server sent, as the client would decode it (a JSON round trip). */
  readonly sent: ServerFrame[] = [];
  /** Bytes the "socket" reports as not yet written; settable by tests. */
  buffered = 0;
  paused = false;
  pauseCount = 0;
  resumeCount = 0;
  closeCode: number | undefined;
  closeReason: string | undefined;
  /** Who closed: the server (through the port) or the client (the test). */
  closedBy: 'server' | 'client' | undefined;
  private readonly listeners = new Set<(frame: ServerFrame) => void>();
  private readonly resumeListeners = new Set<() => void>();

  constructor(
    readonly id: string,
    private readonly options: FakeConnectionOptions = {},
  ) {}

  get isClosed(): boolean {
    return this.closedBy !== undefined;
  }

  send(frame: ServerFrame): void {
    // Like ws: frames sent on a closed socket go nowhere.
    if (this.isClosed) return;
    const text = JSON.stringify(frame);
    if (this.options.buffering === 'accumulate') this.buffered += Buffer.byteLength(text, 'utf8');
    this.maxBufferedBytes = Math.max(this.maxBufferedBytes, this.buffered);
    const decoded = JSON.parse(text) as ServerFrame;
    this.sent.push(decoded);
    for (const listener of [...this.listeners]) listener(decoded);
  }

  bufferedBytes(): number {
    return this.buffered;
  }

  /** The most bytes ever buffered at once (what a real server would have held in memory). */
  maxBufferedBytes = 0;

  pauseReading(): void {
    this.paused = true;
    this.pauseCount++;
  }

  resumeReading(): void {
    this.paused = false;
    this.resumeCount++;
    for (const listener of [...this.resumeListeners]) listener();
  }

  close(code: number, reason: string): void {
    if (this.isClosed) return;
    this.closeCode = code;
    this.closeReason = reason;
    this.closedBy = 'server';
  }

  /** The client side closes (the session is told separately, as the ws 'close' event would). */
  closeFromClient(code = 1000, reason = 'client closed'): void {
    if (this.isClosed) return;
    this.closeCode = code;
    this.closeReason = reason;
    this.closedBy = 'client';
  }

  onFrame(listener: (frame: ServerFrame) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onResume(listener: () => void): () => void {
    this.resumeListeners.add(listener);
    return () => this.resumeListeners.delete(listener);
  }
}

// ---------- the client ----------

export interface WaitOptions {
  /** Only frames at or after this index of `frames` count (see `mark()`); default 0. */
  since?: number;
  /** setImmediate turns to wait before giving up; default 200. */
  turns?: number;
}

/** The client side of one in-process connection. */
export class InProcessClient {
  /** Text frames the client "wrote" while the server had paused reading; delivered on resume. */
  private readonly unread: string[] = [];
  private ridCounter = 0;
  welcome: ServerFrameOf<'welcome'> | undefined;

  constructor(
    readonly world: TestWorld,
    readonly connection: FakeConnection,
    readonly session: Session,
    readonly userId: string,
    readonly deviceId: string,
  ) {
    connection.onResume(() => this.flushUnread());
  }

  /** Every frame the server sent on this connection, in order. */
  get frames(): ServerFrame[] {
    return this.connection.sent;
  }

  get isClosed(): boolean {
    return this.connection.isClosed;
  }

  /** The index the next frame will get; pass it as `since` to wait for frames after now. */
  mark(): number {
    return this.frames.length;
  }

  /** Sends a frame (an object is JSON-encoded; a string is sent as is). Never waits. */
  send(frame: object | string): void {
    const text = typeof frame === 'string' ? frame : JSON.stringify(frame);
    if (this.connection.isClosed) return;
    if (this.connection.paused) {
      this.unread.push(text);
      return;
    }
    this.session.handleText(text);
  }

  /** Sends a binary frame. */
  sendBinary(): void {
    if (!this.connection.isClosed) this.session.handleBinary();
  }

  /**
   * Sends a request and resolves with the frame that answers it: the reply or the error with the
   * same rid. A rid is added when the frame has none.
   */
  async request(frame: Record<string, unknown>, options: Omit<WaitOptions, 'since'> = {}): Promise<ServerFrame> {
    const rid = typeof frame.rid === 'string' ? frame.rid : `${this.deviceId}-r${++this.ridCounter}`;
    const since = this.mark();
    this.send({ ...frame, rid });
    const answer = await this.waitFor((f) => 'rid' in f && f.rid === rid, { ...options, since });
    return answer;
  }

  /** A request that must succeed with a frame of `type`; an error frame fails the test. */
  async requestOk<T extends ServerFrameType>(frame: Record<string, unknown>, type: T): Promise<ServerFrameOf<T>> {
    const answer = await this.request(frame);
    if (answer.type !== type) {
      throw new Error(
        `${this.userId}/${this.deviceId}: expected ${type} for ${JSON.stringify(frame).slice(0, 200)}, got ${JSON.stringify(answer)}`,
      );
    }
    return answer as ServerFrameOf<T>;
  }

  /** A request that must fail; resolves with its error frame. */
  async requestError(frame: Record<string, unknown>): Promise<ServerFrameOf<'error'>> {
    const answer = await this.request(frame);
    if (answer.type !== 'error') {
      throw new Error(
        `${this.userId}/${this.deviceId}: expected an error for ${JSON.stringify(frame).slice(0, 200)}, got ${JSON.stringify(answer)}`,
      );
    }
    return answer;
  }

  /** Sends a chat message and resolves with the `sent` ack. */
  sendMessage(
    conversationId: ConversationId,
    clientMessageId: string,
    body = `body of ${clientMessageId}`,
  ): Promise<ServerFrameOf<'sent'>> {
    return this.requestOk({ type: 'send', conversationId, clientMessageId, body: b64(body) }, 'sent');
  }

  ack(conversationId: ConversationId, seq: Seq): void {
    this.send({ type: 'ack', conversationId, seq });
  }

  read(conversationId: ConversationId, seq: Seq): void {
    this.send({ type: 'read', conversationId, seq });
  }

  /** Acknowledges every event delivered so far (the highest seq per conversation). */
  ackAll(): void {
    const highest = new Map<ConversationId, Seq>();
    for (const event of this.events()) highest.set(event.conversationId, Math.max(highest.get(event.conversationId) ?? 0, event.seq));
    for (const [conversationId, seq] of highest) this.ack(conversationId, seq);
  }

  async heartbeat(): Promise<ServerFrameOf<'heartbeat_ack'>> {
    const since = this.mark();
    this.send({ type: 'heartbeat' });
    return (await this.waitFor((f) => f.type === 'heartbeat_ack', { since })) as ServerFrameOf<'heartbeat_ack'>;
  }

  /** Delivered conversation events (payloads of `event` frames), optionally of one conversation. */
  events(conversationId?: ConversationId): ConversationEvent[] {
    const events: ConversationEvent[] = [];
    for (const frame of this.frames) {
      if (frame.type !== 'event') continue;
      if (conversationId === undefined || frame.event.conversationId === conversationId) events.push(frame.event as ConversationEvent);
    }
    return events;
  }

  /** Seqs of the delivered events of one conversation, in delivery order. */
  seqs(conversationId: ConversationId): Seq[] {
    return this.events(conversationId).map((e) => e.seq);
  }

  framesOf<T extends ServerFrameType>(type: T, since = 0): Array<ServerFrameOf<T>> {
    return this.frames.slice(since).filter((f): f is ServerFrameOf<T> => f.type === type);
  }

  errors(since = 0): Array<ServerFrameOf<'error'>> {
    return this.framesOf('error', since);
  }

  /**
   * Resolves with the first frame (from `since` on) matching the predicate, letting pending work
   * settle between checks; rejects when none arrives within the allowed turns.
   */
  async waitFor(predicate: (frame: ServerFrame) => boolean, options: WaitOptions = {}): Promise<ServerFrame> {
    const since = options.since ?? 0;
    const turns = options.turns ?? 200;
    for (let turn = 0; ; turn++) {
      const found = this.frames.slice(since).find(predicate);
      if (found) return found;
      if (turn >= turns) break;
      await settle(1);
    }
    const recent = this.frames.slice(-5).map((f) => JSON.stringify(f).slice(0, 200));
    throw new Error(`${this.userId}/${this.deviceId}: no matching frame after ${turns} turns; last frames:\n${recent.join('\n')}`);
  }

  /** The client closes its connection (as ws would report a normal close). */
  async close(): Promise<void> {
    if (this.connection.isClosed) return;
    this.connection.closeFromClient();
    this.session.handleClose('client_closed');
    await settle();
  }

  /** Plays the transport: sets the send buffer, and reports "drained" when it went down. */
  setBufferedBytes(bytes: number): void {
    const lowered = bytes < this.connection.buffered;
    this.connection.buffered = bytes;
    if (lowered) this.session.handleWritable();
  }

  /** The socket flushed everything it had queued. */
  drain(): void {
    this.setBufferedBytes(0);
  }

  private flushUnread(): void {
    while (this.unread.length > 0 && !this.connection.paused && !this.connection.isClosed) {
      this.session.handleText(this.unread.shift()!);
    }
  }
}

// ---------- connecting ----------

export interface ConnectOptions {
  /** A ready token (default: one issued now for the user and device). */
  token?: string;
  /** Lifetime of the issued token. */
  tokenTtlMs?: number;
  /** Protocol version named in `auth` (default: the current one). */
  v?: number;
  rid?: string;
  /** Throw unless a welcome arrives (default true). With false, the client is returned as is. */
  expectWelcome?: boolean;
  /**
   * Send a heartbeat on the welcome, as clients do to show they read it (default true): the server
   * shows the device online only then.
   */
  heartbeatOnWelcome?: boolean;
  connection?: FakeConnectionOptions;
}

/** Opens a session on the world's node with no frame sent yet. */
export function openClient(world: TestWorld, userId = '?', deviceId = '?', options: FakeConnectionOptions = {}): InProcessClient {
  const connection = new FakeConnection(world.node.nextConnectionId(), options);
  const session = world.node.openSession(connection);
  return new InProcessClient(world, connection, session, userId, deviceId);
}

/**
 * Connects a device: opens a session, authenticates with a freshly issued token, waits for the
 * welcome and lets the inbox drain. Throws with the server's error when authentication fails
 * (unless `expectWelcome: false`).
 */
export async function connectDevice(
  world: TestWorld,
  userId: string,
  deviceId: string,
  options: ConnectOptions = {},
): Promise<InProcessClient> {
  const client = openClient(world, userId, deviceId, options.connection);
  const token = options.token ?? (await world.core.auth.issueToken({ userId, deviceId }, options.tokenTtlMs)).token;
  const frame: Record<string, unknown> = { type: 'auth', v: options.v ?? PROTOCOL_VERSION, token };
  if (options.rid !== undefined) frame.rid = options.rid;
  client.send(frame);
  const answer = await client.waitFor((f) => f.type === 'welcome' || f.type === 'error');
  if (answer.type === 'welcome') {
    client.welcome = answer;
    if (options.heartbeatOnWelcome !== false) client.send({ type: 'heartbeat' });
  } else if (options.expectWelcome !== false) {
    throw new Error(`${userId}/${deviceId} could not connect: ${JSON.stringify(answer)}`);
  }
  await settle();
  return client;
}

/**
 * Helpers for the end-to-end tests: an embedded server on a real loopback port, SDK clients over
 * real WebSockets recording one shared history, a bare `ws` client for frame-level tricks, and
 * event-driven waits with timeouts (no fixed sleeps).
 */
import WebSocket from 'ws';
import { expect } from 'vitest';
import { checkHistory, formatViolation, type CheckOptions, type HistoryEvent } from '../checker/index.js';
import { ChatClient, HistoryRecorder, type ChatClientOptions, type ConversationEvent, type Via } from '../sdk/index.js';
import type { Session } from '../system/gateway/session.js';
import type { Connection } from '../system/ports/connection.js';
import type { ServerFrame, ServerFrameOf } from '../system/protocol/frames.js';
import { PROTOCOL_VERSION } from '../system/protocol/version.js';
import { startEmbeddedServer, type EmbeddedServer, type EmbeddedServerOptions } from '../system/worlds/embedded-server.js';

/** Polls `condition` (every few ms) until it holds; fails with `what` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Base64 of a UTF-8 string. */
export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** What one SDK client handed to the app, in order. */
export interface Delivered {
  event: ConversationEvent;
  via: Via;
}

/** An SDK client plus what it observed. */
export interface TestClient {
  userId: string;
  deviceId: string;
  client: ChatClient;
  delivered: Delivered[];
  /** Seqs handed to the app, per conversation, in delivery order. */
  seqs(conversationId: string): number[];
  /** Client message ids of delivered chat messages of a conversation, in delivery order. */
  messageIds(conversationId: string): string[];
}

/**
 * Hooks on the server side: the sessions of every connection (to close one from the server, like
 * a dropped TCP connection) and a filter on outgoing frames (to lose one, like a lost ack).
 */
export interface ServerTap {
  sessions: Session[];
  /** Live sessions of a device. */
  sessionsOf(userId: string, deviceId: string): Session[];
  /**
   * Called for every frame the server sends; returning false drops it. The session is passed so
   * the filter can also close the connection.
   */
  outgoing: ((frame: ServerFrame, session: Session) => boolean) | undefined;
}

/** Wraps the node's openSession so every new session (ws or not) is visible to the test. */
export function tapServer(server: EmbeddedServer): ServerTap {
  const node = server.world.node;
  const open = node.openSession.bind(node);
  const tap: ServerTap = {
    sessions: [],
    sessionsOf: (userId, deviceId) =>
      tap.sessions.filter((s) => !s.isClosed && s.device?.userId === userId && s.device.deviceId === deviceId),
    outgoing: undefined,
  };
  node.openSession = (connection: Connection): Session => {
    const opened: { session?: Session } = {};
    const filtered: Connection = {
      id: connection.id,
      send: (frame) => {
        if (opened.session && tap.outgoing && !tap.outgoing(frame, opened.session)) return;
        connection.send(frame);
      },
      bufferedBytes: () => connection.bufferedBytes(),
      pauseReading: () => connection.pauseReading(),
      resumeReading: () => connection.resumeReading(),
      close: (code, reason) => connection.close(code, reason),
    };
    const session = open(filtered);
    opened.session = session;
    tap.sessions.push(session);
    return session;
  };
  return tap;
}

/** One test's world: an embedded server, a shared history, and every client it opened. */
export class E2E {
  readonly history = new HistoryRecorder();
  readonly clients: TestClient[] = [];
  readonly raws: RawClient[] = [];

  private constructor(
    readonly server: EmbeddedServer,
    readonly tap: ServerTap,
  ) {}

  static async start(options: EmbeddedServerOptions = {}): Promise<E2E> {
    const server = await startEmbeddedServer({ prometheus: false, ...options });
    return new E2E(server, tapServer(server));
  }

  async token(userId: string, deviceId: string): Promise<string> {
    return (await this.server.world.core.auth.issueToken({ userId, deviceId })).token;
  }

  /** A new SDK client for the device (not yet connected). */
  async client(userId: string, deviceId: string, options: Partial<ChatClientOptions> = {}): Promise<TestClient> {
    const client = new ChatClient({
      urls: [this.server.wsUrl],
      token: await this.token(userId, deviceId),
      history: this.history,
      reconnectMinDelayMs: 20,
      reconnectMaxDelayMs: 200,
      ...options,
    });
    const delivered: Delivered[] = [];
    client.on('event', (event, via) => delivered.push({ event, via }));
    const entry: TestClient = {
      userId,
      deviceId,
      client,
      delivered,
      seqs: (conversationId) => delivered.filter((d) => d.event.conversationId === conversationId).map((d) => d.event.seq),
      messageIds: (conversationId) =>
        delivered.flatMap((d) =>
          d.event.conversationId === conversationId && d.event.kind === 'message' ? [d.event.clientMessageId] : [],
        ),
    };
    this.clients.push(entry);
    return entry;
  }

  /** A new SDK client for the device, connected (welcome received). */
  async connect(userId: string, deviceId: string, options: Partial<ChatClientOptions> = {}): Promise<TestClient> {
    const entry = await this.client(userId, deviceId, options);
    await entry.client.connect();
    return entry;
  }

  /** A bare WebSocket client, authenticated as the device. */
  async raw(userId: string, deviceId: string, options: { record?: boolean } = {}): Promise<RawClient> {
    const raw = await RawClient.open(this.server.wsUrl, userId, deviceId, options.record === false ? undefined : this.history);
    this.raws.push(raw);
    await raw.auth(await this.token(userId, deviceId));
    return raw;
  }

  /** Records that the devices are connected and caught up now: durability is owed to them. */
  quiesce(devices: Array<{ userId: string; deviceId: string }>): void {
    this.history.record({ type: 'quiesce', atMs: Date.now(), devices: devices.map(({ userId, deviceId }) => ({ userId, deviceId })) });
  }

  /** Runs the invariant checker and fails the test with readable witnesses on any violation. */
  expectNoViolations(options: CheckOptions = {}): void {
    expectCleanHistory(this.history.events, options);
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.client.close();
    for (const r of this.raws) r.terminate();
    await this.server.close();
  }
}

export function expectCleanHistory(history: readonly HistoryEvent[], options: CheckOptions = {}): void {
  const result = checkHistory([...history], options);
  expect(result.violations.map((v) => formatViolation(v))).toEqual([]);
  expect(result.checked.length).toBeGreaterThan(0);
  // With a quiesce event the liveness half of durability ran too (no "nothing checked" note).
  if (history.some((e) => e.type === 'quiesce')) expect(result.notes).toEqual([]);
}

/**
 * A client that speaks the protocol by hand over a plain `ws` socket: it sends exactly the frames
 * a test writes and keeps every frame the server sent. When given a history it records what a
 * client would (device/connect at welcome, send, ack at `sent`, disconnect), so the checker sees
 * its messages; it records no deliveries (it does not de-duplicate).
 */
export class RawClient {
  readonly frames: ServerFrame[] = [];
  closeCode: number | undefined;
  welcome: ServerFrameOf<'welcome'> | undefined;
  private readonly listeners = new Set<() => void>();
  private rids = 0;
  private closed = false;

  private constructor(
    readonly socket: WebSocket,
    readonly userId: string,
    readonly deviceId: string,
    private readonly history: HistoryRecorder | undefined,
  ) {
    socket.on('message', (data: WebSocket.RawData) => {
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      const frame = JSON.parse(text) as ServerFrame;
      this.frames.push(frame);
      this.onFrame(frame);
      for (const listener of [...this.listeners]) listener();
    });
    socket.on('close', (code: number) => {
      this.closeCode = code;
      this.noteClosed();
      for (const listener of [...this.listeners]) listener();
    });
    socket.on('error', () => undefined);
  }

  static open(url: string, userId: string, deviceId: string, history?: HistoryRecorder): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      socket.once('open', () => resolve(new RawClient(socket, userId, deviceId, history)));
      socket.once('error', reject);
    });
  }

  async auth(token: string): Promise<ServerFrameOf<'welcome'>> {
    this.sendFrame({ type: 'auth', v: PROTOCOL_VERSION, token });
    const answer = await this.waitFor((f) => f.type === 'welcome' || f.type === 'error', 'welcome');
    if (answer.type !== 'welcome') throw new Error(`auth failed: ${JSON.stringify(answer)}`);
    return answer;
  }

  nextRid(): string {
    return `raw-${++this.rids}`;
  }

  sendFrame(frame: Record<string, unknown>): void {
    if (frame.type === 'send' && this.history && this.welcome) {
      this.history.record({
        type: 'send',
        atMs: Date.now(),
        userId: this.userId,
        deviceId: this.deviceId,
        conversationId: String(frame.conversationId),
        clientMessageId: String(frame.clientMessageId),
        attempt: 1,
      });
    }
    this.socket.send(JSON.stringify(frame));
  }

  /** Sends a request and resolves with the answer carrying its rid (reply or error). */
  async request(frame: Record<string, unknown>): Promise<ServerFrame> {
    const rid = this.nextRid();
    const since = this.frames.length;
    this.sendFrame({ ...frame, rid });
    return this.waitFor((f) => 'rid' in f && f.rid === rid, `answer to ${String(frame.type)} ${rid}`, since);
  }

  /** The first frame from `since` on that matches; fails after `timeoutMs`. */
  waitFor(predicate: (frame: ServerFrame) => boolean, what: string, since = 0, timeoutMs = 3_000): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.frames.slice(since).find(predicate);
        if (found) {
          done();
          resolve(found);
          return true;
        }
        if (this.closeCode !== undefined) {
          done();
          reject(new Error(`${this.userId}/${this.deviceId}: closed (${this.closeCode}) while waiting for ${what}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.userId}/${this.deviceId}: timed out waiting for ${what}`));
      }, timeoutMs);
      const listener = () => void check();
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      this.listeners.add(listener);
      check();
    });
  }

  /** Resolves with the close code once the socket is closed. */
  waitClosed(timeoutMs = 3_000): Promise<number> {
    if (this.closeCode !== undefined) return Promise.resolve(this.closeCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.userId}/${this.deviceId}: not closed after ${timeoutMs} ms`)), timeoutMs);
      this.socket.once('close', (code: number) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  /** Drops the TCP connection without a close handshake (a vanished client). */
  terminate(): void {
    this.noteClosed();
    this.socket.terminate();
  }

  /** From now on the client is gone as far as its history is concerned (it stopped talking). */
  noteVanished(): void {
    this.noteClosed();
  }

  private onFrame(frame: ServerFrame): void {
    const first = frame.type === 'welcome' && this.welcome === undefined;
    if (frame.type === 'welcome') this.welcome = frame;
    if (!this.history) return;
    if (frame.type === 'welcome') {
      if (first) this.history.record({ type: 'device', atMs: Date.now(), userId: this.userId, deviceId: this.deviceId });
      this.history.record({ type: 'connect', atMs: Date.now(), userId: this.userId, deviceId: this.deviceId });
    } else if (frame.type === 'sent') {
      this.history.record({
        type: 'ack',
        atMs: Date.now(),
        userId: this.userId,
        deviceId: this.deviceId,
        conversationId: frame.conversationId,
        clientMessageId: frame.clientMessageId,
        seq: frame.seq,
      });
    }
  }

  private noteClosed(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.history && this.welcome) {
      this.history.record({ type: 'disconnect', atMs: Date.now(), userId: this.userId, deviceId: this.deviceId });
    }
  }
}

import type { ServerFrame } from '../../system/protocol/frames.js';
import type { ClientTransport, TransportFactory } from '../transport.js';

/** A frame the client sent, parsed (tests assert on its fields). */
export type SentFrame = { type: string; rid: string } & Record<string, unknown>;

/**
 * One scripted connection: the test plays the server. Frames the client sends are parsed into
 * `sent`; push() delivers a server frame; drop() closes from the server side.
 */
export class FakeConnection implements ClientTransport {
  url: string | undefined;
  readonly sent: SentFrame[] = [];
  closedByClient: { code: number | undefined; reason: string | undefined } | undefined;
  private messageCallback: ((text: string) => void) | undefined;
  private closeCallback: ((code: number, reason: string) => void) | undefined;
  private closeReported = false;

  constructor(private readonly openFails: boolean) {}

  open(url: string): Promise<void> {
    this.url = url;
    return this.openFails ? Promise.reject(new Error(`connect ECONNREFUSED ${url}`)) : Promise.resolve();
  }

  send(text: string): void {
    if (this.closedByClient || this.closeReported) return;
    this.sent.push(JSON.parse(text) as SentFrame);
  }

  close(code?: number, reason?: string): void {
    if (this.closedByClient) return;
    this.closedByClient = { code, reason };
    // Like a real socket: the close is reported back (the client must ignore it).
    this.reportClose(code ?? 1000, reason ?? '');
  }

  onMessage(callback: (text: string) => void): void {
    this.messageCallback = callback;
  }

  onClose(callback: (code: number, reason: string) => void): void {
    this.closeCallback = callback;
  }

  // ---- the server's side ----

  push(frame: ServerFrame): void {
    this.messageCallback?.(JSON.stringify(frame));
  }

  /** A frame the protocol does not allow (to test the client's validation). */
  pushUnchecked(frame: unknown): void {
    this.messageCallback?.(JSON.stringify(frame));
  }

  pushRaw(text: string): void {
    this.messageCallback?.(text);
  }

  drop(code = 1006, reason = ''): void {
    this.reportClose(code, reason);
  }

  framesOfType(type: string): SentFrame[] {
    return this.sent.filter((f) => f.type === type);
  }

  lastOfType(type: string): SentFrame | undefined {
    return this.framesOfType(type).at(-1);
  }

  get isOpen(): boolean {
    return !this.closedByClient && !this.closeReported;
  }

  private reportClose(code: number, reason: string): void {
    if (this.closeReported) return;
    this.closeReported = true;
    this.closeCallback?.(code, reason);
  }
}

/** Hands out FakeConnections and remembers them, newest last. */
export class FakeNetwork {
  readonly connections: FakeConnection[] = [];
  /** How many of the next open() calls fail (connection refused). */
  failOpens = 0;

  readonly factory: TransportFactory = () => {
    const fails = this.failOpens > 0;
    if (fails) this.failOpens--;
    const connection = new FakeConnection(fails);
    this.connections.push(connection);
    return connection;
  };

  get last(): FakeConnection {
    const connection = this.connections.at(-1);
    if (!connection) throw new Error('no connection was made');
    return connection;
  }
}

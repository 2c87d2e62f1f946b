/**
 * The SDK's ClientTransport wired straight to a GatewayNode session, with no sockets: the real
 * ChatClient talks to the real Session in one process, deterministically. Frames cross in both
 * directions as JSON text on the microtask queue (FIFO, like a TCP stream), so nothing is
 * re-entrant and nothing depends on real time.
 *
 * The test plays the network through the transport: `kill()` drops the connection on both sides
 * at once (frames in flight are lost), `blackhole()` silently loses everything the server sends
 * from now on (e.g. the `sent` of a stored message: a lost ack).
 */
import type { ClientTransport, TransportFactory } from '../sdk/transport.js';
import type { GatewayNode } from '../system/gateway/gateway-node.js';
import type { Session } from '../system/gateway/session.js';
import type { Connection } from '../system/ports/connection.js';
import type { ServerFrame } from '../system/protocol/frames.js';

/** Close code a client observes when the network drops (as `ws` reports an abnormal closure). */
export const ABNORMAL_CLOSURE = 1006;

export class MemoryTransport implements ClientTransport {
  private session: Session | undefined;
  private messageCallback: ((text: string) => void) | undefined;
  private closeCallback: ((code: number, reason: string) => void) | undefined;
  /** The client closed (or the link died): it sends and receives nothing more. */
  private clientDone = false;
  /** The server side is gone: frames from the client are lost. */
  private serverDone = false;
  private closeReported = false;
  private dropServerFrames = false;

  constructor(private readonly node: GatewayNode) {}

  get isOpen(): boolean {
    return this.session !== undefined && !this.clientDone && !this.serverDone;
  }

  open(): Promise<void> {
    if (!this.node.isAccepting) return Promise.reject(new Error('node is not accepting connections (503)'));
    const connection: Connection = {
      id: this.node.nextConnectionId(),
      send: (frame) => this.fromServer(frame),
      bufferedBytes: () => 0,
      pauseReading: () => undefined,
      resumeReading: () => undefined,
      close: (code, reason) => this.closedByServer(code, reason),
    };
    this.session = this.node.openSession(connection);
    return Promise.resolve();
  }

  send(text: string): void {
    if (this.clientDone || this.serverDone || !this.session) return;
    const session = this.session;
    queueMicrotask(() => {
      if (!this.serverDone) session.handleText(text);
    });
  }

  /** The client closes: frames it already sent still arrive, then the server sees the close. */
  close(code = 1000, reason = ''): void {
    if (this.clientDone) return;
    this.clientDone = true;
    const session = this.session;
    queueMicrotask(() => {
      if (!this.serverDone) {
        this.serverDone = true;
        session?.handleClose(code === 1000 ? 'client_closed' : `closed_${code}`);
      }
      this.reportClose(code, reason);
    });
  }

  onMessage(callback: (text: string) => void): void {
    this.messageCallback = callback;
  }

  onClose(callback: (code: number, reason: string) => void): void {
    this.closeCallback = callback;
  }

  // ---------- the network, played by the test ----------

  /** The connection breaks: both ends learn it now; frames in flight are lost. */
  kill(): void {
    if (this.clientDone && this.serverDone) return;
    const wasServerOpen = !this.serverDone;
    this.clientDone = true;
    this.serverDone = true;
    if (wasServerOpen) this.session?.handleClose(`closed_${ABNORMAL_CLOSURE}`);
    queueMicrotask(() => this.reportClose(ABNORMAL_CLOSURE, 'network lost'));
  }

  /** From now on every server frame is lost on the way (the link is dying). */
  blackhole(): void {
    this.dropServerFrames = true;
  }

  private fromServer(frame: ServerFrame): void {
    if (this.clientDone || this.dropServerFrames) return;
    const text = JSON.stringify(frame);
    queueMicrotask(() => {
      if (!this.clientDone && !this.dropServerFrames) this.messageCallback?.(text);
    });
  }

  /** The session closed the connection (its own handleClose already ran). */
  private closedByServer(code: number, reason: string): void {
    if (this.serverDone) return;
    this.serverDone = true;
    // Frames the server sent before closing (an error, a goaway) arrive first, then the close.
    queueMicrotask(() => {
      this.clientDone = true;
      this.reportClose(code, reason);
    });
  }

  private reportClose(code: number, reason: string): void {
    if (this.closeReported) return;
    this.closeReported = true;
    this.closeCallback?.(code, reason);
  }
}

/** A factory that also remembers the transports it made (the newest is the live one). */
export function memoryTransportFactory(
  node: GatewayNode,
): TransportFactory & { transports: MemoryTransport[]; current(): MemoryTransport | undefined } {
  const transports: MemoryTransport[] = [];
  const factory = () => {
    const transport = new MemoryTransport(node);
    transports.push(transport);
    return transport;
  };
  return Object.assign(factory, { transports, current: () => transports.at(-1) });
}

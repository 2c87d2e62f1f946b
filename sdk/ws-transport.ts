import WebSocket from 'ws';
import type { ClientTransport, TransportFactory } from './transport.js';

export interface WsTransportOptions {
  /** Largest frame accepted from the server; a sync page of big messages can be several MiB. */
  maxPayloadBytes?: number;
  /** Gives up the WebSocket handshake after this long (the client has its own connect timeout too). */
  handshakeTimeoutMs?: number;
  /**
   * Local address to connect from (e.g. 127.0.0.2): one source address has ~28k ephemeral ports
   * towards one server port, so a load driver holding more connections spreads them over several.
   */
  localAddress?: string;
}

const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/** ClientTransport over a real WebSocket (the `ws` package). */
export class WsTransport implements ClientTransport {
  private socket: WebSocket | undefined;
  private messageCallback: ((text: string) => void) | undefined;
  private closeCallback: ((code: number, reason: string) => void) | undefined;
  private closeReported = false;

  constructor(private readonly options: WsTransportOptions = {}) {}

  open(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      // Compression off: chat frames are small, and deflate costs memory per socket, which
      // matters when one load-driver process holds thousands of connections.
      const socket = new WebSocket(url, {
        perMessageDeflate: false,
        maxPayload: this.options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
        handshakeTimeout: this.options.handshakeTimeoutMs,
        ...(this.options.localAddress ? { localAddress: this.options.localAddress } : {}),
      });
      this.socket = socket;
      let opened = false;
      socket.on('open', () => {
        opened = true;
        resolve();
      });
      socket.on('message', (data: WebSocket.RawData) => {
        this.messageCallback?.(rawToText(data));
      });
      // After open, 'error' is always followed by 'close', which is what we report; before open
      // it rejects open(). Either way a listener must exist or ws would throw.
      socket.on('error', (error: Error) => {
        if (!opened) reject(error);
      });
      socket.on('close', (code: number, reason: Buffer) => {
        if (!opened) {
          reject(new Error(`connection closed before it opened (${code})`));
          return;
        }
        this.reportClose(code, reason.toString('utf8'));
      });
    });
  }

  send(text: string): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(text);
  }

  close(code = 1000, reason = ''): void {
    const socket = this.socket;
    if (!socket) return;
    if (socket.readyState === WebSocket.CONNECTING) {
      socket.terminate();
      return;
    }
    if (socket.readyState !== WebSocket.OPEN) return;
    try {
      socket.close(code, reason.slice(0, 120));
    } catch {
      // An invalid close code: close with the generic one rather than leave the socket open.
      socket.close(1000);
    }
  }

  onMessage(callback: (text: string) => void): void {
    this.messageCallback = callback;
  }

  onClose(callback: (code: number, reason: string) => void): void {
    this.closeCallback = callback;
  }

  private reportClose(code: number, reason: string): void {
    if (this.closeReported) return;
    this.closeReported = true;
    this.closeCallback?.(code, reason);
  }
}

function rawToText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

export function wsTransportFactory(options: WsTransportOptions = {}): TransportFactory {
  return () => new WsTransport(options);
}

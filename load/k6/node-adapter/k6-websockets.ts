import { WebSocket as NodeWebSocket } from 'ws';

/*
 * `k6/websockets` on Node's `ws`: the same events (open, message, close, error), the same
 * readyState numbers and handler properties. It also counts open sockets, because a k6 iteration
 * ends only when its event loop is empty, and the runner waits for the same thing.
 */

type EventName = 'open' | 'close' | 'error' | 'message' | 'ping' | 'pong';
type Listener = (event: { type: EventName; data?: string | ArrayBuffer; error?: string; timestamp: number }) => void;

/** Kept on globalThis for the reason recorded-samples.ts gives: module instances may be loaded twice. */
const OPEN_SOCKETS_KEY = Symbol.for('chatload.k6-adapter.open-sockets');
const globals = globalThis as unknown as Record<symbol, Set<WebSocket> | undefined>;
const openSockets = (globals[OPEN_SOCKETS_KEY] ??= new Set<WebSocket>());

/** Sockets created and not yet closed, across all adapter WebSockets. */
export function openSocketCount(): number {
  return openSockets.size;
}

export class WebSocket {
  readonly url: string;
  binaryType: 'blob' | 'arraybuffer' = 'blob';
  onopen: (() => void) | null = null;
  onmessage: ((event?: { data: string | ArrayBuffer }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: ((event?: { error: string }) => void) | null = null;
  private readonly socket: NodeWebSocket;
  private readonly listeners = new Map<EventName, Listener[]>();

  constructor(url: string, _protocols?: null, params?: { headers?: Record<string, string> } | null) {
    this.url = url;
    this.socket = new NodeWebSocket(url, params?.headers ? { headers: params.headers } : {});
    openSockets.add(this);
    this.socket.on('open', () => this.emit('open', {}));
    this.socket.on('message', (data, isBinary) => {
      const payload = isBinary ? new Uint8Array(data as Buffer).buffer : String(data);
      this.emit('message', { data: payload });
    });
    this.socket.on('error', (error) => this.emit('error', { error: error.message }));
    this.socket.on('close', () => {
      openSockets.delete(this);
      this.emit('close', {});
    });
  }

  get readyState(): 0 | 1 | 2 | 3 {
    return this.socket.readyState;
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  send(data: string | ArrayBuffer): void {
    this.socket.send(data);
  }

  close(code?: number, reason?: string): void {
    // Closing a socket still connecting is allowed in k6; ws throws unless it is terminated instead.
    if (this.socket.readyState === NodeWebSocket.CONNECTING) this.socket.terminate();
    else this.socket.close(code, reason);
  }

  addEventListener(event: EventName, listener: Listener): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }

  private emit(type: EventName, fields: { data?: string | ArrayBuffer; error?: string }): void {
    const event = { type, timestamp: Date.now(), ...fields };
    for (const listener of this.listeners.get(type) ?? []) listener(event);
    if (type === 'open') this.onopen?.();
    if (type === 'message') this.onmessage?.({ data: fields.data ?? '' });
    if (type === 'close') this.onclose?.();
    if (type === 'error') this.onerror?.({ error: fields.error ?? '' });
  }
}

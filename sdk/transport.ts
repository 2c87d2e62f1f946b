/**
 * One connection to a gateway, as the client sees it: text frames in and out. The client creates
 * a fresh transport per connection attempt (through a TransportFactory), so an implementation
 * never has to support reopening. `ws` implements it for real sockets (ws-transport.ts); the
 * simulator and the unit tests implement it in memory.
 *
 * Contract:
 * - open() resolves once frames can be sent, or rejects if the connection cannot be made.
 * - onMessage/onClose are registered before open() is called, once each.
 * - onClose fires at most once, when an open connection ends for any reason (including close()).
 *   It may also fire for a connection that never opened; the client tolerates both.
 * - send() on a connection that is not open drops the frame silently: the client notices the
 *   close through onClose and re-sends what matters after reconnecting.
 * - close() is idempotent and may be called at any time, including while open() is pending.
 */
export interface ClientTransport {
  open(url: string): Promise<void>;
  send(text: string): void;
  close(code?: number, reason?: string): void;
  onMessage(callback: (text: string) => void): void;
  onClose(callback: (code: number, reason: string) => void): void;
}

export type TransportFactory = () => ClientTransport;

import type { ServerFrame } from '../protocol/frames.js';

/**
 * The session's view of one client connection. `ws` implements it for real sockets; the simulator
 * and in-process tests implement it without sockets.
 */
export interface Connection {
  readonly id: string;
  send(frame: ServerFrame): void;
  /** Bytes queued for the client but not yet written to the network. */
  bufferedBytes(): number;
  /** Stop/resume reading frames from the client (backpressure on a slow consumer). */
  pauseReading(): void;
  resumeReading(): void;
  close(code: number, reason: string): void;
}

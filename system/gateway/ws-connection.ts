import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Connection } from '../ports/connection.js';
import type { ServerFrame } from '../protocol/frames.js';
import { encodeFrame } from '../protocol/codec.js';
import { CloseCodes } from '../protocol/version.js';

/** The Connection port over a `ws` socket. */
export class WsConnection implements Connection {
  private corked = false;
  /** Reading stops while either the session (its send buffer is full) or the inbound backlog asks. */
  private pausedForSendBuffer = false;
  private pausedForBacklog = false;
  private pausedForByteBudget = false;

  constructor(
    readonly id: string,
    private readonly ws: WebSocket,
    private readonly socket: Socket,
  ) {}

  send(frame: ServerFrame): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    // Frames produced in one turn of the event loop (an ack, an event, a receipt…) leave in one
    // write instead of one system call each.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.ws.send(encodeFrame(frame));
  }

  bufferedBytes(): number {
    // ws's own queue plus what the kernel socket has not taken yet.
    return this.ws.bufferedAmount + this.socket.writableLength;
  }

  pauseReading(): void {
    this.pausedForSendBuffer = true;
    this.applyReading();
  }

  resumeReading(): void {
    this.pausedForSendBuffer = false;
    this.applyReading();
  }

  /** The connection's frames wait for later turns of the event loop: read no more until they ran. */
  holdForBacklog(held: boolean): void {
    this.pausedForBacklog = held;
    this.applyReading();
  }

  /** The connection spent its inbound byte budget: read no more until it has refilled. */
  holdForByteBudget(held: boolean): void {
    this.pausedForByteBudget = held;
    this.applyReading();
  }

  private applyReading(): void {
    if (this.pausedForSendBuffer || this.pausedForBacklog || this.pausedForByteBudget) this.ws.pause();
    else this.ws.resume();
  }

  close(code: number, reason: string): void {
    if (code === CloseCodes.SLOW_CONSUMER) {
      // Its buffer is the problem: drop it now instead of waiting to flush a close frame behind it.
      this.ws.terminate();
      return;
    }
    this.ws.close(code, reason.slice(0, 120));
  }
}

import type { Session } from '../../gateway/session.js';
import type { Connection } from '../../ports/connection.js';
import type { ServerFrame } from '../../protocol/frames.js';
import { CloseCodes } from '../../protocol/version.js';
import type { Scheduler } from '../../adapters/virtual/scheduler.js';
import type { SimGateway } from './sim-gateway.js';

/** What the client end of a simulated connection hears. */
export interface ClientEndpoint {
  onFrame(frame: ServerFrame): void;
  /** The connection is gone (server close, gateway crash, partition). */
  onClosed(code: number, reason: string): void;
}

/** One direction of a client link: a latency draw per frame, in order (TCP). */
export interface ClientLink {
  /** One-way delay of one frame (ms), loss already folded in as retransmission delay. */
  oneWayMs(): number;
}

/** Bytes a socket's kernel buffers absorb before the application-level send buffer grows. */
const KERNEL_BUFFER_BYTES = 256 * 1024;

/**
 * The Connection port between a real Session on a simulated gateway and a virtual client. Frames
 * cross a link with latency (in order, as TCP keeps them) and cost gateway CPU on the way in and
 * out. Frames are handed over as objects; sizes are estimated for the send-buffer model. A slow
 * consumer reads at `readBytesPerS`, so its send buffer grows and the session's backpressure
 * (pause reading, then close) runs as it would on a socket.
 */
export class SimConnection implements Connection {
  session!: Session;
  private toClientLastMs = 0;
  private toServerLastMs = 0;
  private serverClosed = false;
  private clientGone = false;
  private paused = false;
  private heldInbound: Array<{ type: string; text: string }> | undefined;
  private unreadBytes = 0;
  /** Frames that reached a slow reader's socket and wait to be read, oldest first. */
  private readonly unread: Array<{ frame: ServerFrame; size: number; arrivalMs: number }> = [];
  /** When the reader finished its last read; the next one starts no earlier. */
  private lastReadMs = 0;
  /** Bumped when the read rate changes: a read scheduled at the old rate is dropped and planned again. */
  private readGeneration = 0;
  private readScheduled = false;
  private readRate = 0;
  /** A server close sent while a slow reader still had frames to read: it is read after them. */
  private closeAfterUnread: { code: number; reason: string } | undefined;

  constructor(
    readonly id: string,
    private readonly gateway: SimGateway,
    private readonly time: Scheduler,
    private readonly link: ClientLink,
    private readonly client: ClientEndpoint,
  ) {}

  get isOpen(): boolean {
    return !this.serverClosed && !this.clientGone;
  }

  // ---------- the server side (Connection port) ----------

  send(frame: ServerFrame): void {
    if (this.serverClosed || this.clientGone) return;
    const now = this.time.nowMs();
    const doneAt = this.gateway.cpu.reserve(this.gateway.costs.frameOutMs);
    const arrival = Math.max(this.toClientLastMs, doneAt + this.link.oneWayMs());
    this.toClientLastMs = arrival;
    this.gateway.framesOut++;
    if (this.readRate > 0 || this.unread.length > 0) {
      // A slow reader (or one still reading what it left unread): the frame is read only when the ones before it have been.
      const size = estimateFrameBytes(frame);
      this.unreadBytes += size;
      this.unread.push({ frame, size, arrivalMs: arrival });
      this.scheduleRead();
      return;
    }
    this.time.schedule(arrival - now, () => {
      if (!this.clientGone) this.client.onFrame(frame);
    });
  }

  /** Bytes/s the client reads at (0 = as fast as frames arrive). A reader that speeds up reads its backlog at the new rate. */
  get readBytesPerS(): number {
    return this.readRate;
  }

  set readBytesPerS(bytesPerS: number) {
    if (bytesPerS === this.readRate) return;
    this.readRate = bytesPerS;
    this.readGeneration++;
    this.readScheduled = false;
    this.lastReadMs = Math.min(this.lastReadMs, this.time.nowMs());
    this.scheduleRead();
  }

  /** Plans the read of the oldest unread frame: when it has arrived and the reads before it are done. */
  private scheduleRead(): void {
    const head = this.unread[0];
    if (this.readScheduled || !head) return;
    this.readScheduled = true;
    const generation = this.readGeneration;
    const start = Math.max(head.arrivalMs, this.lastReadMs);
    const readAt = this.readRate > 0 ? start + (head.size / this.readRate) * 1000 : start;
    this.time.schedule(Math.max(0, readAt - this.time.nowMs()), () => {
      if (generation !== this.readGeneration) return;
      this.readScheduled = false;
      const read = this.unread.shift()!;
      this.lastReadMs = readAt;
      this.unreadBytes -= read.size;
      if (!this.clientGone) this.client.onFrame(read.frame);
      if (this.paused && !this.serverClosed && this.gateway.isAlive) this.session.handleWritable();
      if (this.unread.length === 0 && this.closeAfterUnread) this.deliverClose(this.closeAfterUnread.code, this.closeAfterUnread.reason);
      this.scheduleRead();
    });
  }

  bufferedBytes(): number {
    return this.unreadBytes > KERNEL_BUFFER_BYTES ? this.unreadBytes - KERNEL_BUFFER_BYTES : 0;
  }

  pauseReading(): void {
    this.paused = true;
  }

  resumeReading(): void {
    this.paused = false;
    const held = this.heldInbound;
    this.heldInbound = undefined;
    if (held) for (const f of held) this.process(f.type, f.text);
  }

  close(code: number, reason: string): void {
    if (this.serverClosed) return;
    this.serverClosed = true;
    this.gateway.connectionGone(this);
    const now = this.time.nowMs();
    // The close reaches the client after the frames sent before it.
    const arrival = Math.max(this.toClientLastMs, now + this.link.oneWayMs());
    if (this.unread.length > 0 && code !== CloseCodes.SLOW_CONSUMER) {
      // A close frame queues behind the data like any frame: a slow reader reads it last. (A slow
      // consumer's socket is terminated instead, so what it had not read is lost.)
      this.closeAfterUnread = { code, reason };
      return;
    }
    this.time.schedule(arrival - now, () => this.deliverClose(code, reason));
  }

  private deliverClose(code: number, reason: string): void {
    if (this.clientGone) return;
    this.clientGone = true;
    this.client.onClosed(code, reason);
  }

  // ---------- the client side ----------

  /** The client writes a text frame; `type` saves parsing it here (the session parses the text). */
  fromClient(type: string, text: string): void {
    if (this.clientGone || this.serverClosed) return;
    const now = this.time.nowMs();
    const arrival = Math.max(this.toServerLastMs, now + this.link.oneWayMs());
    this.toServerLastMs = arrival;
    this.time.schedule(arrival - now, () => {
      if (this.serverClosed || !this.gateway.isAlive) return;
      if (this.paused) {
        (this.heldInbound ??= []).push({ type, text });
        return;
      }
      this.process(type, text);
    });
  }

  private process(type: string, text: string): void {
    this.gateway.framesIn++;
    this.gateway.cpu.run(this.gateway.costs.frameInMs(type), () => {
      if (!this.serverClosed && this.gateway.isAlive) this.session.handleText(text);
    });
  }

  /** The client goes away (app closed, device offline): the server notices after the link delay. */
  clientClose(): void {
    if (this.clientGone) return;
    this.clientGone = true;
    if (this.serverClosed) return;
    const now = this.time.nowMs();
    const arrival = Math.max(this.toServerLastMs, now + this.link.oneWayMs());
    this.time.schedule(arrival - now, () => {
      if (this.serverClosed || !this.gateway.isAlive) return;
      this.serverClosed = true;
      this.gateway.connectionGone(this);
      this.session.handleClose('client_closed');
    });
  }

  /**
   * The path is cut (gateway crash or network partition): the client hears of it after `noticeMs`
   * (a reset arrives quickly after kill -9; a partition only shows when heartbeats stop). With
   * `serverNotices`, the session closes too (the gateway sees the reset); a crashed gateway sees nothing.
   */
  cut(noticeMs: number, serverNotices: boolean): void {
    if (!this.clientGone) {
      this.clientGone = true;
      this.time.schedule(noticeMs, () => this.client.onClosed(1006, 'connection lost'));
    }
    if (serverNotices && !this.serverClosed && this.gateway.isAlive) {
      this.serverClosed = true;
      this.gateway.connectionGone(this);
      this.time.schedule(noticeMs, () => this.session.handleClose('connection_lost'));
    } else {
      this.serverClosed = true;
    }
  }
}

/** Rough wire size of a frame (JSON), without encoding it. */
export function estimateFrameBytes(frame: ServerFrame): number {
  if (frame.type === 'event') {
    const e = frame.event;
    return 180 + (e.kind === 'message' ? e.bodyBase64.length + (e.media ? 120 : 0) : 40 * e.userIds.length);
  }
  if (frame.type === 'sync_result') {
    let bytes = 80;
    for (const e of frame.events) bytes += 180 + (e.kind === 'message' ? e.bodyBase64.length : 40 * e.userIds.length);
    return bytes;
  }
  if (frame.type === 'welcome') return 900;
  return 120;
}

import type { MediaRef } from '../../system/core/events.js';
import type { ClientMessageId, ConversationId } from '../../system/core/ids.js';
import type { TimerHandle } from '../../system/ports/clock.js';
import type { ClientFrameOf, ServerFrameOf } from '../../system/protocol/frames.js';

/** The server's `sent` answer (`duplicate`: an earlier attempt had got through). */
export type SendResult = Omit<ServerFrameOf<'sent'>, 'type' | 'rid'>;

/** MLS metadata sent beside an opaque body (send.mls, docs/e2ee.md). */
export type MlsMarker = NonNullable<ClientFrameOf<'send'>['mls']>;

/**
 * A message the app sent that the server has not acknowledged yet. Plain data: an app persists
 * it (the simulator keeps it while its device is offline) and hands it back to a new client core.
 */
export interface PendingSend {
  /** One rid for every attempt: an error frame for any attempt finds the message. */
  rid: string;
  readonly conversationId: ConversationId;
  readonly clientMessageId: ClientMessageId;
  readonly bodyBase64: string;
  readonly media: MediaRef | undefined;
  /** MLS metadata sent beside the body (send.mls). */
  readonly mls: MlsMarker | undefined;
  /** When the app sent it (its clock): the start of its send-to-acknowledgement latency. */
  readonly createdAtMs: number;
  attempt: number;
  /**
   * The server logged it in its write-ahead log (a `queued` answer): not re-sent on a timer, but
   * still re-sent after a reconnect (another gateway may number it first; that keeps our order).
   */
  queued: boolean;
  /**
   * The connection on which the server last answered it `queued` (never persisted). Re-sent on
   * another connection, it holds back later sends to its conversation until it is answered there
   * (see waitsBehindQueued).
   */
  queuedOnConnection?: number | undefined;
  /** It was held back on this connection (waitsBehindQueued): sent when what it waits for is answered. */
  heldOnConnection?: number | undefined;
  /** Send timeout of the current attempt, or the delay before a retry (never persisted). */
  timer: TimerHandle | undefined;
}

/**
 * Unacknowledged sends in the order the app made them. Map iteration order is insertion order,
 * which is exactly the order to re-send in after a reconnect (the server orders a connection's
 * sends by arrival, and the sender's order is part of the ordering guarantee). The map is made on
 * the first send: most simulated devices never send in a session.
 */
export class Outbox {
  private byKey: Map<string, PendingSend> | undefined;

  get size(): number {
    return this.byKey?.size ?? 0;
  }

  add(send: PendingSend): void {
    (this.byKey ??= new Map()).set(keyOf(send.conversationId, send.clientMessageId), send);
  }

  get(conversationId: ConversationId, clientMessageId: ClientMessageId): PendingSend | undefined {
    return this.byKey?.get(keyOf(conversationId, clientMessageId));
  }

  /** Outboxes hold a handful of sends, and error frames are rare: a scan beats a second index. */
  getByRid(rid: string): PendingSend | undefined {
    if (!this.byKey) return undefined;
    for (const send of this.byKey.values()) if (send.rid === rid) return send;
    return undefined;
  }

  /**
   * Whether a send to the conversation waits for its answer (`sent`). A queued one does not: its
   * seq comes as its own copy of the message, pushed or by sync.
   */
  awaitsAnswer(conversationId: ConversationId): boolean {
    if (!this.byKey) return false;
    for (const send of this.byKey.values()) if (send.conversationId === conversationId && !send.queued) return true;
    return false;
  }

  /**
   * Whether `send` must wait on connection `connection`: an earlier send to its conversation was
   * queued in a write-ahead log on an earlier connection and has not been answered on this one.
   * The server keeps a sender's order behind its queued sends only on the gateway that logged
   * them; on another gateway a later send could be numbered first, unless it waits for the
   * re-sent queued one to be numbered or logged there.
   */
  waitsBehindQueued(send: PendingSend, connection: number): boolean {
    if (!this.byKey) return false;
    for (const earlier of this.byKey.values()) {
      if (earlier === send) return false;
      if (earlier.conversationId === send.conversationId && earlier.queued && earlier.queuedOnConnection !== connection) return true;
    }
    return false;
  }

  has(send: PendingSend): boolean {
    return this.byKey?.get(keyOf(send.conversationId, send.clientMessageId)) === send;
  }

  remove(send: PendingSend): void {
    send.timer?.cancel();
    send.timer = undefined;
    this.byKey?.delete(keyOf(send.conversationId, send.clientMessageId));
  }

  /** In send order, as a copy (the caller's loop may remove entries). */
  values(): PendingSend[] {
    return this.byKey ? [...this.byKey.values()] : [];
  }

  /** Connection lost: attempts in flight are moot; everything is re-sent after reconnecting. */
  cancelTimers(): void {
    if (!this.byKey) return;
    for (const send of this.byKey.values()) {
      send.timer?.cancel();
      send.timer = undefined;
    }
  }

  /**
   * The server's log started over (a new incarnation): what the old one knew of these sends is
   * gone. A `queued` mark (durable in a write-ahead log) no longer holds, so they are re-sent on
   * timers again; their idempotency keys are new to the new log, which will number them afresh.
   * The sends stay, in order, to be sent to the new log.
   */
  forgetServerState(): void {
    if (!this.byKey) return;
    for (const send of this.byKey.values()) send.queued = false;
  }

  /** Empties the outbox and returns what it held, in send order (timers cancelled). */
  takeAll(): PendingSend[] {
    const sends = this.values();
    this.byKey = undefined;
    for (const send of sends) {
      send.timer?.cancel();
      send.timer = undefined;
    }
    return sends;
  }
}

/** Space separates: it can occur in neither a conversation id nor a client message id. */
function keyOf(conversationId: ConversationId, clientMessageId: ClientMessageId): string {
  return `${conversationId} ${clientMessageId}`;
}

import type { MediaRef } from '../system/core/events.js';
import type { ClientMessageId, ConversationId } from '../system/core/ids.js';
import type { TimerHandle } from '../system/ports/clock.js';
import type { ClientFrameOf, ServerFrameOf } from '../system/protocol/frames.js';
import type { ChatClientError } from './errors.js';

/** The server's `sent` answer (`duplicate`: an earlier attempt had got through). */
export type SendResult = Omit<ServerFrameOf<'sent'>, 'type' | 'rid'>;

/** A message the app sent that the server has not acknowledged yet. */
export interface PendingSend {
  /** One rid for every attempt: an error frame for any attempt finds the message. */
  readonly rid: string;
  readonly conversationId: ConversationId;
  readonly clientMessageId: ClientMessageId;
  readonly bodyBase64: string;
  readonly media: MediaRef | undefined;
  /** MLS metadata sent beside the body (send.mls). */
  readonly mls?: ClientFrameOf<'send'>['mls'];
  attempt: number;
  /**
   * The server logged it in its write-ahead log (a `queued` answer): not re-sent on a timer, but
   * still re-sent after a reconnect (another gateway may number it first; that keeps our order).
   */
  queued?: boolean;
  /** Send timeout of the current attempt, or the delay before a retry. */
  timer: TimerHandle | undefined;
  readonly promise: Promise<SendResult>;
  readonly resolve: (result: SendResult) => void;
  readonly reject: (error: ChatClientError) => void;
}

/**
 * Unacknowledged sends in the order the app made them. Map iteration order is insertion order,
 * which is exactly the order to re-send in after a reconnect (the server orders a connection's
 * sends by arrival, and the sender's order is part of the ordering guarantee).
 */
export class Outbox {
  private readonly byKey = new Map<string, PendingSend>();
  private readonly byRid = new Map<string, PendingSend>();

  get size(): number {
    return this.byKey.size;
  }

  add(send: PendingSend): void {
    this.byKey.set(keyOf(send.conversationId, send.clientMessageId), send);
    this.byRid.set(send.rid, send);
  }

  get(conversationId: ConversationId, clientMessageId: ClientMessageId): PendingSend | undefined {
    return this.byKey.get(keyOf(conversationId, clientMessageId));
  }

  getByRid(rid: string): PendingSend | undefined {
    return this.byRid.get(rid);
  }

  /**
   * Whether a send to the conversation waits for its answer (`sent`). A queued one does not: its
   * seq comes as its own copy of the message, pushed or by sync.
   */
  awaitsAnswer(conversationId: ConversationId): boolean {
    for (const send of this.byKey.values()) if (send.conversationId === conversationId && !send.queued) return true;
    return false;
  }

  has(send: PendingSend): boolean {
    return this.byRid.get(send.rid) === send;
  }

  remove(send: PendingSend): void {
    send.timer?.cancel();
    send.timer = undefined;
    this.byKey.delete(keyOf(send.conversationId, send.clientMessageId));
    this.byRid.delete(send.rid);
  }

  /** In send order. Iterate a copy if the loop body may remove entries. */
  values(): PendingSend[] {
    return [...this.byKey.values()];
  }

  /** Connection lost: attempts in flight are moot; everything is re-sent after reconnecting. */
  cancelTimers(): void {
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
    for (const send of this.byKey.values()) send.queued = false;
  }

  /** markHandled: the rejection must not surface as unhandled if the app dropped the promise. */
  rejectAll(error: ChatClientError, markHandled = false): void {
    const sends = this.values();
    this.byKey.clear();
    this.byRid.clear();
    for (const send of sends) {
      send.timer?.cancel();
      send.timer = undefined;
      if (markHandled) send.promise.catch(() => undefined);
      send.reject(error);
    }
  }
}

/** Space separates: it can occur in neither a conversation id nor a client message id. */
function keyOf(conversationId: ConversationId, clientMessageId: ClientMessageId): string {
  return `${conversationId} ${clientMessageId}`;
}

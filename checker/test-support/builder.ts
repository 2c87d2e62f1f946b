import type { DeliverEvent, History, HistoryEvent } from '../history.js';
import type { ReceiptState } from '../../system/core/events.js';

export type Dev = readonly [userId: string, deviceId: string];

/**
 * Hand-written histories for tests. Every call appends one event; times advance by 10 ms per
 * event unless an explicit atMs is given.
 */
export class HistoryBuilder {
  readonly events: HistoryEvent[] = [];
  private now = 1_000;

  private at(atMs?: number): number {
    if (atMs !== undefined) {
      this.now = Math.max(this.now, atMs);
      return atMs;
    }
    this.now += 10;
    return this.now;
  }

  /** Moves the clock forward without an event. */
  advance(ms: number): this {
    this.now += ms;
    return this;
  }

  get time(): number {
    return this.now;
  }

  push(e: HistoryEvent): this {
    this.events.push(e);
    return this;
  }

  device([userId, deviceId]: Dev, atMs?: number): this {
    return this.push({ type: 'device', atMs: this.at(atMs), userId, deviceId });
  }

  welcomed([userId, deviceId]: Dev, atMs?: number): this {
    return this.push({ type: 'welcomed', atMs: this.at(atMs), userId, deviceId });
  }

  connect([userId, deviceId]: Dev, atMs?: number): this {
    return this.push({ type: 'connect', atMs: this.at(atMs), userId, deviceId });
  }

  disconnect([userId, deviceId]: Dev, atMs?: number): this {
    return this.push({ type: 'disconnect', atMs: this.at(atMs), userId, deviceId });
  }

  send([userId, deviceId]: Dev, conversationId: string, clientMessageId: string, attempt = 1, atMs?: number): this {
    return this.push({ type: 'send', atMs: this.at(atMs), userId, deviceId, conversationId, clientMessageId, attempt });
  }

  ack([userId, deviceId]: Dev, conversationId: string, clientMessageId: string, seq: number, atMs?: number): this {
    return this.push({ type: 'ack', atMs: this.at(atMs), userId, deviceId, conversationId, clientMessageId, seq });
  }

  deliverMessage(
    [userId, deviceId]: Dev,
    conversationId: string,
    seq: number,
    [senderUserId, senderDeviceId]: Dev,
    clientMessageId: string,
    via: 'live' | 'sync' = 'live',
    atMs?: number,
  ): this {
    return this.push({
      type: 'deliver',
      atMs: this.at(atMs),
      userId,
      deviceId,
      conversationId,
      seq,
      kind: 'message',
      senderUserId,
      senderDeviceId,
      clientMessageId,
      via,
    });
  }

  deliverMembership(
    [userId, deviceId]: Dev,
    conversationId: string,
    seq: number,
    op: NonNullable<DeliverEvent['op']>,
    memberUserIds: string[],
    via: 'live' | 'sync' = 'live',
    atMs?: number,
  ): this {
    return this.push({
      type: 'deliver',
      atMs: this.at(atMs),
      userId,
      deviceId,
      conversationId,
      seq,
      kind: 'membership',
      op,
      memberUserIds,
      via,
    });
  }

  receipt(
    [userId, deviceId]: Dev,
    conversationId: string,
    state: ReceiptState,
    upToSeq: number,
    [byUserId, byDeviceId]: Dev,
    atMs?: number,
  ): this {
    return this.push({ type: 'receipt', atMs: this.at(atMs), userId, deviceId, conversationId, state, upToSeq, byUserId, byDeviceId });
  }

  presence([userId, deviceId]: Dev, subjectUserId: string, online: boolean, atMs?: number): this {
    return this.push({ type: 'presence', atMs: this.at(atMs), userId, deviceId, subjectUserId, online });
  }

  quiesce(devices: readonly Dev[], atMs?: number): this {
    return this.push({ type: 'quiesce', atMs: this.at(atMs), devices: devices.map(([userId, deviceId]) => ({ userId, deviceId })) });
  }

  /**
   * A message sent, acked and delivered live to each recipient, in that order — the happy path.
   */
  message(sender: Dev, conversationId: string, clientMessageId: string, seq: number, recipients: readonly Dev[]): this {
    this.send(sender, conversationId, clientMessageId).ack(sender, conversationId, clientMessageId, seq);
    for (const r of recipients) this.deliverMessage(r, conversationId, seq, sender, clientMessageId);
    return this;
  }

  /** A membership event delivered to each listed device. */
  membership(
    conversationId: string,
    seq: number,
    op: NonNullable<DeliverEvent['op']>,
    memberUserIds: string[],
    recipients: readonly Dev[],
  ): this {
    for (const r of recipients) this.deliverMembership(r, conversationId, seq, op, memberUserIds);
    return this;
  }

  build(): History {
    return [...this.events];
  }
}

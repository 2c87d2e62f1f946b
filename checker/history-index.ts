import type { AckEvent, DeliverEvent, HistoryEvent } from './history.js';
import { MembershipTimeline } from './membership-timeline.js';

/** What one device observed of one conversation: seq → history index of the first such event. */
export interface DeviceConvObservations {
  delivered: Map<number, number>;
  /** Own messages acknowledged to this device (absent when it sent nothing here). */
  acked: Map<number, number> | undefined;
}

/** A device that recorded at least one event of its own (it is "in the history"). */
export interface DeviceRecord {
  key: string;
  userId: string;
  deviceId: string;
  /** History index of its first `device` (linked) event, or -1 when it never had one. */
  linkedIdx: number;
  conversations: Map<string, DeviceConvObservations>;
}

/**
 * Maps over a history built in one pass, shared by every invariant. Everything refers to events
 * by their index in `history`, which is also their order.
 */
export interface HistoryIndex {
  readonly kind: 'history-index';
  readonly history: readonly HistoryEvent[];
  /** Every device that is the actor of some event, by deviceKey. */
  readonly devices: Map<string, DeviceRecord>;
  /** Every user with a recorded device → those devices. */
  readonly devicesByUser: Map<string, DeviceRecord[]>;
  /** conversation → seq → index of the first observation (deliver or ack) of that seq by anyone. */
  readonly seqFirst: Map<string, Map<number, number>>;
  /** message identity (see messageKey) → index of its first observation (ack or deliver). */
  readonly messageFirst: Map<string, number>;
  /** message identity → index of its first send (whatever the attempt). */
  readonly firstSend: Map<string, number>;
  /** message identity → index of its first ack. */
  readonly firstAck: Map<string, number>;
  /** Index of the last `quiesce` event, or -1. */
  readonly lastQuiesce: number;
  readonly timeline: MembershipTimeline;
}

export type HistoryInput = readonly HistoryEvent[] | HistoryIndex;

export function deviceKeyOf(userId: string, deviceId: string): string {
  return `${userId}/${deviceId}`;
}

/** The identity of a chat message: who sent it, where, and its client-chosen id. */
export function messageKey(senderUserId: string, senderDeviceId: string, conversationId: string, clientMessageId: string): string {
  return `${senderUserId}\u0000${senderDeviceId}\u0000${conversationId}\u0000${clientMessageId}`;
}

/** The message identity of an ack or a message delivery; undefined for membership events or incomplete deliveries. */
export function messageKeyOf(e: AckEvent | DeliverEvent): string | undefined {
  if (e.type === 'ack') return messageKey(e.userId, e.deviceId, e.conversationId, e.clientMessageId);
  if (e.kind !== 'message' || e.senderUserId === undefined || e.senderDeviceId === undefined || e.clientMessageId === undefined) {
    return undefined;
  }
  return messageKey(e.senderUserId, e.senderDeviceId, e.conversationId, e.clientMessageId);
}

export function toIndex(input: HistoryInput): HistoryIndex {
  return Array.isArray(input) ? buildHistoryIndex(input) : (input as HistoryIndex);
}

export function buildHistoryIndex(history: readonly HistoryEvent[]): HistoryIndex {
  const devices = new Map<string, DeviceRecord>();
  const devicesByUser = new Map<string, DeviceRecord[]>();
  const seqFirst = new Map<string, Map<number, number>>();
  const messageFirst = new Map<string, number>();
  const firstSend = new Map<string, number>();
  const firstAck = new Map<string, number>();
  const membershipDeliveries: DeliverEvent[] = [];
  let lastQuiesce = -1;

  const deviceOf = (userId: string, deviceId: string): DeviceRecord => {
    const key = deviceKeyOf(userId, deviceId);
    let d = devices.get(key);
    if (!d) {
      d = { key, userId, deviceId, linkedIdx: -1, conversations: new Map() };
      devices.set(key, d);
      let list = devicesByUser.get(userId);
      if (!list) {
        list = [];
        devicesByUser.set(userId, list);
      }
      list.push(d);
    }
    return d;
  };
  const observationsOf = (d: DeviceRecord, conversationId: string): DeviceConvObservations => {
    let o = d.conversations.get(conversationId);
    if (!o) {
      o = { delivered: new Map(), acked: undefined };
      d.conversations.set(conversationId, o);
    }
    return o;
  };
  const noteSeq = (conversationId: string, seq: number, i: number): void => {
    let seqs = seqFirst.get(conversationId);
    if (!seqs) {
      seqs = new Map();
      seqFirst.set(conversationId, seqs);
    }
    if (!seqs.has(seq)) seqs.set(seq, i);
  };

  for (let i = 0; i < history.length; i++) {
    const e = history[i]!;
    switch (e.type) {
      case 'quiesce':
        lastQuiesce = i;
        break;
      case 'device': {
        const d = deviceOf(e.userId, e.deviceId);
        if (d.linkedIdx < 0) d.linkedIdx = i;
        break;
      }
      case 'send': {
        deviceOf(e.userId, e.deviceId);
        const key = messageKey(e.userId, e.deviceId, e.conversationId, e.clientMessageId);
        if (!firstSend.has(key)) firstSend.set(key, i);
        break;
      }
      case 'ack': {
        const o = observationsOf(deviceOf(e.userId, e.deviceId), e.conversationId);
        if (!o.acked) o.acked = new Map();
        if (!o.acked.has(e.seq)) o.acked.set(e.seq, i);
        noteSeq(e.conversationId, e.seq, i);
        const key = messageKey(e.userId, e.deviceId, e.conversationId, e.clientMessageId);
        if (!firstAck.has(key)) firstAck.set(key, i);
        if (!messageFirst.has(key)) messageFirst.set(key, i);
        break;
      }
      case 'deliver': {
        const o = observationsOf(deviceOf(e.userId, e.deviceId), e.conversationId);
        if (!o.delivered.has(e.seq)) o.delivered.set(e.seq, i);
        noteSeq(e.conversationId, e.seq, i);
        if (e.kind === 'membership') {
          membershipDeliveries.push(e);
        } else {
          const key = messageKeyOf(e);
          if (key !== undefined && !messageFirst.has(key)) messageFirst.set(key, i);
        }
        break;
      }
      default:
        deviceOf(e.userId, e.deviceId);
    }
  }

  return {
    kind: 'history-index',
    history,
    devices,
    devicesByUser,
    seqFirst,
    messageFirst,
    firstSend,
    firstAck,
    lastQuiesce,
    timeline: new MembershipTimeline(membershipDeliveries),
  };
}

/** History index of the device's first observation (deliver or own ack) of a seq, or -1. */
export function firstObservation(o: DeviceConvObservations | undefined, seq: number): number {
  if (!o) return -1;
  const d = o.delivered.get(seq);
  const a = o.acked?.get(seq);
  if (d === undefined) return a ?? -1;
  if (a === undefined) return d;
  return Math.min(d, a);
}

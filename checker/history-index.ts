import type { AckEvent, DeliverEvent, HistoryEvent } from './history.js';
import { MembershipTimeline, missingSeqs } from './membership-timeline.js';
import { SeqIndex } from './seq-index.js';

/** What one device observed of one conversation: seq → history index of the first such event. */
export interface DeviceConvObservations {
  device: DeviceRecord;
  conversationId: string;
  delivered: SeqIndex;
  /** Own messages acknowledged to this device (absent when it sent nothing here). */
  acked: SeqIndex | undefined;
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

/** Where a message identity (sender user, sender device, conversation, clientMessageId) was seen first; -1 = never. */
export interface MessageRecord {
  senderUserId: string;
  senderDeviceId: string;
  conversationId: string;
  clientMessageId: string;
  firstSend: number;
  firstAck: number;
  /** First ack or message delivery of it. */
  firstObservation: number;
}

/** Per-event flag: this ack/deliver is the device's first observation of its (conversation, seq). */
export const FIRST_ON_DEVICE = 1;
/** Per-event flag: this deliver repeats a (conversation, seq) already delivered to the device. */
export const REPEATED_DELIVERY = 2;

/**
 * Maps over a history built in one pass, shared by every invariant. Everything refers to events
 * by their index in `history`, which is also their order. Hot paths use per-event arrays and
 * nested maps of the events' own strings, never concatenated keys, so a few million events
 * index in about a second.
 */
export interface HistoryIndex {
  readonly kind: 'history-index';
  readonly history: readonly HistoryEvent[];
  /** userId → deviceId → device, for every device that is the actor of some event. */
  readonly devicesByUser: Map<string, Map<string, DeviceRecord>>;
  /** For each ack/deliver event: the device's observations of that conversation. */
  readonly observationsOf: Array<DeviceConvObservations | undefined>;
  /** For each ack/deliver event: index of the first observation of its (conversation, seq) by anyone; else -1. */
  readonly seqFirstOf: Int32Array;
  /** For each event: FIRST_ON_DEVICE | REPEATED_DELIVERY bits. */
  readonly flags: Uint8Array;
  /** conversation → seq → index of the first observation (deliver or ack) of that seq by anyone. */
  readonly seqFirst: Map<string, SeqIndex>;
  /** Indices of the first ack of every message, in history order. */
  readonly firstAcks: number[];
  /**
   * Observations that pair a message identity with a seq: every ack, the first observation of
   * each (conversation, seq), and any later observation that disagrees with it. Every
   * (identity, seq) pair in the history appears here at least once.
   */
  readonly identityObservations: number[];
  /** Index of the last `quiesce` event, or -1. */
  readonly lastQuiesce: number;
  readonly timeline: MembershipTimeline;
  /** The message record of an identity, if it was sent, acked or delivered. */
  message(senderUserId: string, senderDeviceId: string, conversationId: string, clientMessageId: string): MessageRecord | undefined;
  /** The device, if it recorded any event. */
  device(userId: string, deviceId: string): DeviceRecord | undefined;
}

export type HistoryInput = readonly HistoryEvent[] | HistoryIndex;

export function deviceKeyOf(userId: string, deviceId: string): string {
  return `${userId}/${deviceId}`;
}

/** A string key for a message identity (for occasional use; the index itself avoids building these). */
export function messageKey(senderUserId: string, senderDeviceId: string, conversationId: string, clientMessageId: string): string {
  return `${senderUserId}\u0000${senderDeviceId}\u0000${conversationId}\u0000${clientMessageId}`;
}

/** The sender of an ack (its own device) or of a message delivery; undefined for membership events. */
export function senderOf(e: AckEvent | DeliverEvent): { userId: string; deviceId: string; clientMessageId: string } | undefined {
  if (e.type === 'ack') return { userId: e.userId, deviceId: e.deviceId, clientMessageId: e.clientMessageId };
  if (e.kind !== 'message' || e.senderUserId === undefined || e.senderDeviceId === undefined || e.clientMessageId === undefined)
    return undefined;
  return { userId: e.senderUserId, deviceId: e.senderDeviceId, clientMessageId: e.clientMessageId };
}

/** True when two observations of one seq describe the same conversation event. */
export function sameEvent(a: AckEvent | DeliverEvent, b: AckEvent | DeliverEvent): boolean {
  const kindA = a.type === 'ack' ? 'message' : a.kind;
  const kindB = b.type === 'ack' ? 'message' : b.kind;
  if (kindA !== kindB) return false;
  if (kindA === 'message') {
    const ua = a.type === 'ack' ? a.userId : a.senderUserId;
    const da = a.type === 'ack' ? a.deviceId : a.senderDeviceId;
    const ub = b.type === 'ack' ? b.userId : b.senderUserId;
    const db = b.type === 'ack' ? b.deviceId : b.senderDeviceId;
    return ua === ub && da === db && a.clientMessageId === b.clientMessageId;
  }
  const ma = a as DeliverEvent;
  const mb = b as DeliverEvent;
  if (ma.op !== mb.op) return false;
  const usersA = ma.memberUserIds ?? [];
  const usersB = mb.memberUserIds ?? [];
  return usersA.length === usersB.length && usersA.every((u) => usersB.includes(u));
}

export function toIndex(input: HistoryInput): HistoryIndex {
  return isHistoryIndex(input) ? input : buildHistoryIndex(input);
}

function isHistoryIndex(input: HistoryInput): input is HistoryIndex {
  return !Array.isArray(input) && (input as HistoryIndex).kind === 'history-index';
}

export function buildHistoryIndex(history: readonly HistoryEvent[]): HistoryIndex {
  const devicesByUser = new Map<string, Map<string, DeviceRecord>>();
  const observationsOf = new Array<DeviceConvObservations | undefined>(history.length);
  const seqFirstOf = new Int32Array(history.length).fill(-1);
  const flags = new Uint8Array(history.length);
  const seqFirst = new Map<string, SeqIndex>();
  const messages = new Map<string, Map<string, MessageRecord[]>>(); // conversation → clientMessageId → records
  const firstAcks: number[] = [];
  const identityObservations: number[] = [];
  const membershipDeliveries: DeliverEvent[] = [];
  let lastQuiesce = -1;

  const device = (userId: string, deviceId: string): DeviceRecord | undefined => devicesByUser.get(userId)?.get(deviceId);
  const deviceOf = (userId: string, deviceId: string): DeviceRecord => {
    let byId = devicesByUser.get(userId);
    if (!byId) {
      byId = new Map();
      devicesByUser.set(userId, byId);
    }
    let d = byId.get(deviceId);
    if (!d) {
      d = { key: deviceKeyOf(userId, deviceId), userId, deviceId, linkedIdx: -1, conversations: new Map() };
      byId.set(deviceId, d);
    }
    return d;
  };
  const observationsFor = (userId: string, deviceId: string, conversationId: string): DeviceConvObservations => {
    const d = deviceOf(userId, deviceId);
    let o = d.conversations.get(conversationId);
    if (!o) {
      o = { device: d, conversationId, delivered: new SeqIndex(), acked: undefined };
      d.conversations.set(conversationId, o);
    }
    return o;
  };
  const message = (
    senderUserId: string,
    senderDeviceId: string,
    conversationId: string,
    clientMessageId: string,
  ): MessageRecord | undefined => {
    const list = messages.get(conversationId)?.get(clientMessageId);
    if (!list) return undefined;
    for (const r of list) if (r.senderUserId === senderUserId && r.senderDeviceId === senderDeviceId) return r;
    return undefined;
  };
  const messageOf = (senderUserId: string, senderDeviceId: string, conversationId: string, clientMessageId: string): MessageRecord => {
    let byId = messages.get(conversationId);
    if (!byId) {
      byId = new Map();
      messages.set(conversationId, byId);
    }
    let list = byId.get(clientMessageId);
    if (!list) {
      list = [];
      byId.set(clientMessageId, list);
    }
    for (const r of list) if (r.senderUserId === senderUserId && r.senderDeviceId === senderDeviceId) return r;
    const r: MessageRecord = {
      senderUserId,
      senderDeviceId,
      conversationId,
      clientMessageId,
      firstSend: -1,
      firstAck: -1,
      firstObservation: -1,
    };
    list.push(r);
    return r;
  };
  /** Notes the (conversation, seq) of an observation; returns whether it pairs an identity with a seq for the first time here. */
  const noteSeq = (e: AckEvent | DeliverEvent, i: number): boolean => {
    let seqs = seqFirst.get(e.conversationId);
    if (!seqs) {
      seqs = new SeqIndex();
      seqFirst.set(e.conversationId, seqs);
    }
    const first = seqs.get(e.seq);
    if (first === undefined) {
      seqs.set(e.seq, i);
      seqFirstOf[i] = i;
      return true;
    }
    seqFirstOf[i] = first;
    return !sameEvent(history[first] as AckEvent | DeliverEvent, e);
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
        const m = messageOf(e.userId, e.deviceId, e.conversationId, e.clientMessageId);
        if (m.firstSend < 0) m.firstSend = i;
        break;
      }
      case 'ack': {
        const o = observationsFor(e.userId, e.deviceId, e.conversationId);
        observationsOf[i] = o;
        if (!o.acked) o.acked = new SeqIndex();
        if (!o.acked.has(e.seq)) {
          o.acked.set(e.seq, i);
          if (!o.delivered.has(e.seq)) flags[i] = FIRST_ON_DEVICE;
        }
        noteSeq(e, i);
        identityObservations.push(i);
        const m = messageOf(e.userId, e.deviceId, e.conversationId, e.clientMessageId);
        if (m.firstAck < 0) {
          m.firstAck = i;
          firstAcks.push(i);
        }
        if (m.firstObservation < 0) m.firstObservation = i;
        break;
      }
      case 'deliver': {
        const o = observationsFor(e.userId, e.deviceId, e.conversationId);
        observationsOf[i] = o;
        if (o.delivered.has(e.seq)) {
          flags[i] = REPEATED_DELIVERY;
        } else {
          o.delivered.set(e.seq, i);
          if (!o.acked?.has(e.seq)) flags[i] = FIRST_ON_DEVICE;
        }
        const pairsNew = noteSeq(e, i);
        if (e.kind === 'membership') {
          membershipDeliveries.push(e);
        } else if (pairsNew && e.senderUserId !== undefined && e.senderDeviceId !== undefined && e.clientMessageId !== undefined) {
          identityObservations.push(i);
          const m = messageOf(e.senderUserId, e.senderDeviceId, e.conversationId, e.clientMessageId);
          if (m.firstObservation < 0) m.firstObservation = i;
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
    devicesByUser,
    observationsOf,
    seqFirstOf,
    flags,
    seqFirst,
    firstAcks,
    identityObservations,
    lastQuiesce,
    timeline: new MembershipTimeline(
      membershipDeliveries,
      new Map([...seqFirst].map(([conversationId, seqs]) => [conversationId, missingSeqs(seqs.keys())])),
    ),
    message,
    device,
  };
}

/** History index of the device's first observation (deliver or own ack) of a seq, or -1. */
export function firstObservation(o: DeviceConvObservations | undefined, seq: number): number {
  if (!o) return -1;
  const d = o.delivered.get(seq);
  if (o.acked === undefined) return d ?? -1;
  const a = o.acked.get(seq);
  if (d === undefined) return a ?? -1;
  if (a === undefined) return d;
  return Math.min(d, a);
}

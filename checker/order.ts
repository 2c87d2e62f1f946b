import type { AckEvent, DeliverEvent, HistoryEvent } from './history.js';
import {
  FIRST_ON_DEVICE,
  deviceKeyOf,
  firstObservation,
  sameEvent,
  toIndex,
  type DeviceConvObservations,
  type HistoryIndex,
  type HistoryInput,
  type MessageRecord,
} from './history-index.js';
import { isExitOf } from './membership-timeline.js';
import type { CheckOptions } from './options.js';
import { ViolationSink, type Violation } from './violation.js';

type Observation = AckEvent | DeliverEvent;

/**
 * order — one total order per conversation, the same on every device, respecting each sender's
 * send order, with no gaps. Four checks:
 *
 * 1. Increasing: per (device, conversation) the seqs the device observed — its `deliver` events
 *    and its own `ack` events, in history order — strictly increase. Observing again a seq the
 *    device already observed (an idempotent re-ack, its own message echoed back, a duplicate
 *    delivery) is not an order problem and is skipped here (duplicate deliveries are
 *    `no-duplicates`).
 * 2. No gaps: between a device's lowest and highest observed seq, every seq at which its user
 *    was a member is observed. When the timeline cannot tell, the device's own observation
 *    decides: after an event that is not its user's exit, its user is still a member at the
 *    next seq (membership only ends by an exit event, which the leaving user sees).
 * 3. Same event: a seq is the same event on every device (same kind; for messages the same
 *    sender user/device and clientMessageId; for membership the same op and users).
 * 4. Sender order: if a device's message m1 was acked before its first send of m2 in the same
 *    conversation, seq(m1) < seq(m2).
 */
export function order(history: HistoryInput, options: CheckOptions = {}): Violation[] {
  const sink = new ViolationSink('order', options.maxViolationsPerInvariant);
  checkOrder(toIndex(history), sink);
  return sink.violations;
}

export function checkOrder(index: HistoryIndex, sink: ViolationSink): void {
  checkIncreasingAndSame(index, sink);
  checkGaps(index, sink);
  checkSenderOrder(index, sink);
  checkQueuedSenderOrder(index, sink);
}

function checkIncreasingAndSame(index: HistoryIndex, sink: ViolationSink): void {
  const { history, seqFirstOf, flags, observationsOf } = index;
  const highest = new Map<DeviceConvObservations, number>(); // → history index of the highest seq observed so far
  for (let i = 0; i < history.length; i++) {
    const e = history[i]!;
    if (e.type !== 'ack' && e.type !== 'deliver') continue;

    const firstIdx = seqFirstOf[i]!;
    if (firstIdx !== i) {
      const first = history[firstIdx] as Observation;
      if (!sameEvent(first, e)) {
        sink.report(() => ({
          message:
            `seq ${e.seq} of ${e.conversationId} is ${describe(first)} at ${deviceKeyOf(first.userId, first.deviceId)} ` +
            `but ${describe(e)} at ${deviceKeyOf(e.userId, e.deviceId)}`,
          conversationId: e.conversationId,
          userId: e.userId,
          deviceId: e.deviceId,
          seq: e.seq,
          ...clientMessageIdOf(e),
          witness: [first, e],
        }));
      }
    }

    if ((flags[i]! & FIRST_ON_DEVICE) === 0) continue; // seen before on this device: a repeat, not a reordering
    const obs = observationsOf[i]!;
    const prevIdx = highest.get(obs);
    if (prevIdx === undefined) {
      highest.set(obs, i);
      continue;
    }
    const prev = history[prevIdx] as Observation;
    if (e.seq > prev.seq) {
      highest.set(obs, i);
      continue;
    }
    sink.report(() => ({
      message:
        `${deviceKeyOf(e.userId, e.deviceId)} observed seq ${e.seq} of ${e.conversationId} after seq ${prev.seq} ` +
        `(${describe(e)} after ${describe(prev)})`,
      conversationId: e.conversationId,
      userId: e.userId,
      deviceId: e.deviceId,
      seq: e.seq,
      ...clientMessageIdOf(e),
      witness: [prev, e],
    }));
  }
}

function checkGaps(index: HistoryIndex, sink: ViolationSink): void {
  for (const byId of index.devicesByUser.values()) {
    for (const device of byId.values()) {
      for (const obs of device.conversations.values()) checkDeviceGaps(index, obs, sink);
    }
  }
}

function checkDeviceGaps(index: HistoryIndex, obs: DeviceConvObservations, sink: ViolationSink): void {
  const { history, timeline } = index;
  const { device, conversationId } = obs;
  const seqs = obs.delivered.keys();
  if (obs.acked) {
    for (const s of obs.acked.keys()) if (!obs.delivered.has(s)) seqs.push(s);
    seqs.sort((a, b) => a - b);
  }
  if (seqs.length < 2) return;
  for (let k = 1; k < seqs.length; k++) {
    const before = seqs[k - 1]!;
    const after = seqs[k]!;
    if (after === before + 1) continue;
    const from = before + 1;
    const to = after - 1;
    let status = timeline.memberDuring(conversationId, device.userId, from, to);
    const beforeEvent = history[firstObservation(obs, before)] as Observation;
    if (status === 'unknown') {
      status = beforeEvent.type === 'deliver' && isExitOf(beforeEvent, device.userId) ? 'no' : 'yes';
    }
    if (status === 'no') continue;
    sink.report(() => {
      const afterEvent = history[firstObservation(obs, after)]!;
      const witness: HistoryEvent[] = [beforeEvent, afterEvent];
      const elsewhere = index.seqFirst.get(conversationId)?.get(from);
      if (elsewhere !== undefined) witness.push(history[elsewhere]!);
      const missing = from === to ? `seq ${from}` : `seqs ${from}..${to}`;
      return {
        message:
          `${device.key} skipped ${missing} of ${conversationId} (observed ${before} then ${after}) ` +
          `although ${device.userId} was a member there`,
        conversationId,
        userId: device.userId,
        deviceId: device.deviceId,
        seq: from,
        witness,
      };
    });
  }
}

/**
 * Sender order through the write-ahead log: a message answered `queued` before the same device's
 * first send of another message to the conversation must end up with the lower seq.
 */
function checkQueuedSenderOrder(index: HistoryIndex, sink: ViolationSink): void {
  const { history } = index;
  const latestQueued = new Map<string, number>(); // device + conversation → index of its latest `queued`
  const pairs: Array<[number, number]> = []; // [queued index, index of a later first send]
  for (let i = 0; i < history.length; i++) {
    const e = history[i]!;
    if (e.type !== 'queued' && e.type !== 'send') continue;
    const key = `${e.userId} ${e.deviceId} ${e.conversationId}`;
    if (e.type === 'queued') {
      latestQueued.set(key, i);
      continue;
    }
    const q = latestQueued.get(key);
    if (q === undefined || (history[q] as { clientMessageId: string }).clientMessageId === e.clientMessageId) continue;
    if (index.message(e.userId, e.deviceId, e.conversationId, e.clientMessageId)?.firstSend === i) pairs.push([q, i]);
  }
  const seqOf = (userId: string, deviceId: string, conversationId: string, clientMessageId: string) => {
    const m = index.message(userId, deviceId, conversationId, clientMessageId);
    const at = m ? (m.firstAck >= 0 ? m.firstAck : m.firstObservation) : -1;
    return at >= 0 ? (history[at] as Observation) : undefined;
  };
  for (const [qIdx, sendIdx] of pairs) {
    const queued = history[qIdx] as Extract<HistoryEvent, { type: 'queued' }>;
    const send = history[sendIdx] as Extract<HistoryEvent, { type: 'send' }>;
    const first = seqOf(queued.userId, queued.deviceId, queued.conversationId, queued.clientMessageId);
    const second = seqOf(send.userId, send.deviceId, send.conversationId, send.clientMessageId);
    if (!first || !second || first.seq < second.seq) continue;
    sink.report(() => ({
      message:
        `${deviceKeyOf(queued.userId, queued.deviceId)} sent ${send.clientMessageId} after ${queued.clientMessageId} was queued, ` +
        `yet ${queued.clientMessageId} got seq ${first.seq} and ${send.clientMessageId} seq ${second.seq} in ${queued.conversationId}`,
      conversationId: queued.conversationId,
      userId: queued.userId,
      deviceId: queued.deviceId,
      seq: second.seq,
      clientMessageId: send.clientMessageId,
      witness: [queued, send, first, second],
    }));
  }
}

function checkSenderOrder(index: HistoryIndex, sink: ViolationSink): void {
  const { history } = index;
  // sender user → device → conversation → index of its highest-seq ack so far
  const highestAck = new Map<string, Map<string, Map<string, number>>>();
  const floors: Array<[MessageRecord, number]> = []; // message → the highest ack before its first send
  for (let i = 0; i < history.length; i++) {
    const e = history[i]!;
    if (e.type !== 'ack' && e.type !== 'send') continue;
    let byDevice = highestAck.get(e.userId);
    if (!byDevice) {
      byDevice = new Map();
      highestAck.set(e.userId, byDevice);
    }
    let byConversation = byDevice.get(e.deviceId);
    if (!byConversation) {
      byConversation = new Map();
      byDevice.set(e.deviceId, byConversation);
    }
    const prev = byConversation.get(e.conversationId);
    if (e.type === 'ack') {
      if (prev === undefined || (history[prev] as AckEvent).seq < e.seq) byConversation.set(e.conversationId, i);
    } else if (prev !== undefined) {
      const m = index.message(e.userId, e.deviceId, e.conversationId, e.clientMessageId)!;
      if (m.firstSend === i) floors.push([m, prev]);
    }
  }
  for (const [m, floorIdx] of floors) {
    const seqIdx = m.firstAck >= 0 ? m.firstAck : m.firstObservation;
    if (seqIdx < 0) continue;
    const m2 = history[seqIdx] as Observation;
    const m1 = history[floorIdx] as AckEvent;
    if (m2.seq > m1.seq || m.clientMessageId === m1.clientMessageId) continue;
    const send = history[m.firstSend]!;
    sink.report(() => ({
      message:
        `${deviceKeyOf(m1.userId, m1.deviceId)} sent ${m.clientMessageId} after ${m1.clientMessageId} ` +
        `was acked at seq ${m1.seq}, yet it got seq ${m2.seq} in ${m1.conversationId}`,
      conversationId: m1.conversationId,
      userId: m1.userId,
      deviceId: m1.deviceId,
      seq: m2.seq,
      clientMessageId: m.clientMessageId,
      witness: [m1, send, m2],
    }));
  }
}

function describe(e: Observation): string {
  if (e.type === 'ack') return `own message ${e.clientMessageId}`;
  if (e.kind === 'membership') return `membership ${e.op ?? '?'} [${(e.memberUserIds ?? []).join(',')}]`;
  return `message ${e.clientMessageId ?? '?'} from ${e.senderUserId ?? '?'}/${e.senderDeviceId ?? '?'}`;
}

function clientMessageIdOf(e: Observation): { clientMessageId?: string } {
  return e.clientMessageId === undefined ? {} : { clientMessageId: e.clientMessageId };
}

import type { HistoryEvent, ReceiptObservedEvent } from './history.js';
import { deviceKeyOf, firstObservation, toIndex, type DeviceRecord, type HistoryIndex, type HistoryInput } from './history-index.js';
import type { CheckOptions } from './options.js';
import { ViolationSink, type Violation } from './violation.js';

/**
 * receipts — sent → delivered → read, never backwards; "delivered" only after a device really
 * got it.
 *
 * 1. Monotonic: for each observing device and (conversation, byUser, byDevice, state), upToSeq
 *    never decreases across the receipts it observes.
 * 2. Grounded: a receipt (delivered or read) with upToSeq s by device d observed at time t needs
 *    d to have observed (`deliver`, or its own `ack`) at a time ≤ t the highest seq ≤ s it was
 *    due to see: s itself when d's user is a member at s, else the user's exit seq before s.
 *    Not flagged when d recorded nothing (a device outside the history) or d's user's
 *    membership at s is unknown.
 */
export function receipts(history: HistoryInput, options: CheckOptions = {}): Violation[] {
  const sink = new ViolationSink('receipts', options.maxViolationsPerInvariant);
  checkReceipts(toIndex(history), sink);
  return sink.violations;
}

export function checkReceipts(index: HistoryIndex, sink: ViolationSink): void {
  const { history } = index;
  // observer device → conversation → byUser → byDevice → [highest delivered receipt, highest read receipt] (history indices)
  const watermarks = new Map<DeviceRecord, Map<string, Map<string, Map<string, [number, number]>>>>();
  for (let i = 0; i < history.length; i++) {
    const e = history[i]!;
    if (e.type !== 'receipt') continue;
    const byKey = deviceKeyOf(e.byUserId, e.byDeviceId);

    const marks = slot(watermarks, index.device(e.userId, e.deviceId)!, e.conversationId, e.byUserId, e.byDeviceId);
    const stateSlot = e.state === 'read' ? 1 : 0;
    const prevIdx = marks[stateSlot];
    const prev = prevIdx < 0 ? undefined : (history[prevIdx] as ReceiptObservedEvent);
    if (!prev || e.upToSeq >= prev.upToSeq) {
      marks[stateSlot] = i;
    } else {
      sink.report(() => ({
        message:
          `${deviceKeyOf(e.userId, e.deviceId)} saw ${byKey}'s ${e.state} watermark in ${e.conversationId} ` +
          `go back from ${prev.upToSeq} to ${e.upToSeq}`,
        conversationId: e.conversationId,
        userId: e.byUserId,
        deviceId: e.byDeviceId,
        seq: e.upToSeq,
        witness: [prev, e],
      }));
    }

    const by = index.device(e.byUserId, e.byDeviceId);
    if (!by || e.upToSeq < 1) continue;
    const target = dueSeq(index, e.conversationId, e.byUserId, e.upToSeq);
    if (target === undefined) continue;
    const obs = by.conversations.get(e.conversationId);
    const seenIdx = firstObservation(obs, target);
    if (seenIdx >= 0 && history[seenIdx]!.atMs <= e.atMs) continue;
    sink.report(() => {
      const seen = seenIdx >= 0 ? history[seenIdx]! : undefined;
      const elsewhere = index.seqFirst.get(e.conversationId)?.get(target);
      const witness: HistoryEvent[] = [e];
      if (seen) witness.push(seen);
      else if (elsewhere !== undefined) witness.push(history[elsewhere]!);
      return {
        message:
          `${byKey} reported ${e.state} up to seq ${e.upToSeq} of ${e.conversationId} (seen by ` +
          `${deviceKeyOf(e.userId, e.deviceId)} at ${e.atMs} ms) but ` +
          (seen ? `only got seq ${target} at ${seen.atMs} ms` : `never got seq ${target}`),
        conversationId: e.conversationId,
        userId: e.byUserId,
        deviceId: e.byDeviceId,
        seq: target,
        witness,
      };
    });
  }
}

/** The highest seq ≤ upToSeq the user's devices were due to see, or undefined when unknown / none. */
function dueSeq(index: HistoryIndex, conversationId: string, userId: string, upToSeq: number): number | undefined {
  const { timeline } = index;
  const at = timeline.membershipAt(conversationId, userId, upToSeq);
  if (at.status === 'yes') return upToSeq;
  if (at.status === 'unknown') return undefined;
  // Not a member at upToSeq: the last seq they were due is their exit before it, if any.
  const exit = at.evidence;
  if (exit && exit.kind === 'membership' && (exit.op === 'removed' || exit.op === 'left') && exit.seq <= upToSeq) return exit.seq;
  return undefined;
}

function slot(
  root: Map<DeviceRecord, Map<string, Map<string, Map<string, [number, number]>>>>,
  observer: DeviceRecord,
  conversationId: string,
  byUserId: string,
  byDeviceId: string,
): [number, number] {
  let byConversation = root.get(observer);
  if (!byConversation) {
    byConversation = new Map();
    root.set(observer, byConversation);
  }
  let byUser = byConversation.get(conversationId);
  if (!byUser) {
    byUser = new Map();
    byConversation.set(conversationId, byUser);
  }
  let byDevice = byUser.get(byUserId);
  if (!byDevice) {
    byDevice = new Map();
    byUser.set(byUserId, byDevice);
  }
  let marks = byDevice.get(byDeviceId);
  if (!marks) {
    marks = [-1, -1];
    byDevice.set(byDeviceId, marks);
  }
  return marks;
}

import type { AckEvent, DeliverEvent } from './history.js';
import { REPEATED_DELIVERY, deviceKeyOf, senderOf, toIndex, type HistoryIndex, type HistoryInput } from './history-index.js';
import type { CheckOptions } from './options.js';
import { ViolationSink, type Violation } from './violation.js';

/**
 * no-duplicates — the application never sees the same message twice:
 * 1. a device never gets the same (conversationId, seq) delivered twice;
 * 2. one message identity (senderUserId, senderDeviceId, conversationId, clientMessageId) never
 *    appears at two different seqs, in acks or deliveries (a retried send appended twice).
 *    Reported once per extra seq, however many devices saw it.
 */
export function noDuplicates(history: HistoryInput, options: CheckOptions = {}): Violation[] {
  const sink = new ViolationSink('no-duplicates', options.maxViolationsPerInvariant);
  checkNoDuplicates(toIndex(history), sink);
  return sink.violations;
}

export function checkNoDuplicates(index: HistoryIndex, sink: ViolationSink): void {
  const { history, flags, observationsOf } = index;
  for (let i = 0; i < history.length; i++) {
    if ((flags[i]! & REPEATED_DELIVERY) === 0) continue;
    const e = history[i] as DeliverEvent;
    const first = history[observationsOf[i]!.delivered.get(e.seq)!] as DeliverEvent;
    sink.report(() => ({
      message: `${deviceKeyOf(e.userId, e.deviceId)} got seq ${e.seq} of ${e.conversationId} delivered twice (at ${first.atMs} ms via ${first.via}, again at ${e.atMs} ms via ${e.via})`,
      conversationId: e.conversationId,
      userId: e.userId,
      deviceId: e.deviceId,
      seq: e.seq,
      ...(e.clientMessageId === undefined ? {} : { clientMessageId: e.clientMessageId }),
      witness: [first, e],
    }));
  }

  // Every (identity, seq) pair appears among the identity observations (see HistoryIndex).
  const reported = new Map<string, Set<number>>(); // message key → extra seqs already reported
  for (const i of index.identityObservations) {
    const e = history[i] as AckEvent | DeliverEvent;
    const sender = senderOf(e);
    if (!sender) continue;
    const m = index.message(sender.userId, sender.deviceId, e.conversationId, sender.clientMessageId)!;
    const first = history[m.firstObservation] as AckEvent | DeliverEvent;
    if (first.seq === e.seq) continue;
    const key = `${sender.userId}/${sender.deviceId}|${e.conversationId}|${sender.clientMessageId}`;
    let seqs = reported.get(key);
    if (!seqs) {
      seqs = new Set();
      reported.set(key, seqs);
    }
    if (seqs.has(e.seq)) continue;
    seqs.add(e.seq);
    sink.report(() => ({
      message: `message ${sender.clientMessageId} from ${deviceKeyOf(sender.userId, sender.deviceId)} appears at seq ${first.seq} and again at seq ${e.seq} of ${e.conversationId}`,
      conversationId: e.conversationId,
      userId: sender.userId,
      deviceId: sender.deviceId,
      seq: e.seq,
      clientMessageId: sender.clientMessageId,
      witness: [first, e],
    }));
  }
}

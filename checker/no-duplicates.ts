import type { AckEvent, DeliverEvent } from './history.js';
import { deviceKeyOf, messageKeyOf, toIndex, type HistoryIndex, type HistoryInput } from './history-index.js';
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
  const { history } = index;
  const reportedSeqs = new Set<string>();
  for (let i = 0; i < history.length; i++) {
    const e = history[i]!;
    if (e.type !== 'ack' && e.type !== 'deliver') continue;

    if (e.type === 'deliver') {
      const obs = index.devices.get(deviceKeyOf(e.userId, e.deviceId))!.conversations.get(e.conversationId)!;
      const firstIdx = obs.delivered.get(e.seq)!;
      if (firstIdx !== i) {
        const first = history[firstIdx] as DeliverEvent;
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
    }

    const key = messageKeyOf(e);
    if (key === undefined) continue;
    const first = history[index.messageFirst.get(key)!] as AckEvent | DeliverEvent;
    if (first.seq === e.seq) continue;
    const reportKey = `${key}\u0000${e.seq}`;
    if (reportedSeqs.has(reportKey)) continue;
    reportedSeqs.add(reportKey);
    const [senderUserId, senderDeviceId] = e.type === 'ack' ? [e.userId, e.deviceId] : [e.senderUserId!, e.senderDeviceId!];
    sink.report(() => ({
      message: `message ${e.clientMessageId ?? '?'} from ${deviceKeyOf(senderUserId, senderDeviceId)} appears at seq ${first.seq} and again at seq ${e.seq} of ${e.conversationId}`,
      conversationId: e.conversationId,
      userId: senderUserId,
      deviceId: senderDeviceId,
      seq: e.seq,
      ...(e.clientMessageId === undefined ? {} : { clientMessageId: e.clientMessageId }),
      witness: [first, e],
    }));
  }
}

import type { HistoryEvent, QuiesceEvent } from './history.js';
import { deviceKeyOf, firstObservation, toIndex, type DeviceRecord, type HistoryIndex, type HistoryInput } from './history-index.js';
import type { CheckOptions } from './options.js';
import { ViolationSink, type Violation } from './violation.js';

/**
 * durability — every message the server acked is delivered to every device owed it.
 *
 * Owed: every device (from `device` events linked at or before the ack's time) of every user who
 * was a member of the conversation at the message's seq, except the sending device itself (it
 * has the ack), that is listed in the final `quiesce` event. Only acks recorded before that
 * quiesce event count; a delivery anywhere in the history satisfies the debt.
 *
 * Durability is a liveness property: without a `quiesce` event nothing says the run settled, so
 * no violation is reported (the invariant still counts as checked). Users whose membership at
 * the seq is unknown are skipped.
 */
export function durability(history: HistoryInput, options: CheckOptions = {}): Violation[] {
  const sink = new ViolationSink('durability', options.maxViolationsPerInvariant);
  checkDurability(toIndex(history), sink);
  return sink.violations;
}

export function checkDurability(index: HistoryIndex, sink: ViolationSink): void {
  if (index.lastQuiesce < 0) return;
  const { history, timeline } = index;
  const quiesce = history[index.lastQuiesce] as QuiesceEvent;
  const quiesced = new Set(quiesce.devices.map((d) => deviceKeyOf(d.userId, d.deviceId)));

  // Per user: their linked devices that are in the quiesce set.
  const owedDevices = new Map<string, DeviceRecord[]>();
  for (const [userId, records] of index.devicesByUser) {
    const owed = records.filter((d) => d.linkedIdx >= 0 && quiesced.has(d.key));
    if (owed.length > 0) owedDevices.set(userId, owed);
  }

  for (const [key, ackIdx] of index.firstAck) {
    if (ackIdx > index.lastQuiesce) continue;
    const ack = history[ackIdx]!;
    if (ack.type !== 'ack') continue;
    const candidates = timeline.candidateMembers(ack.conversationId);
    if (!candidates) continue;
    const senderKey = deviceKeyOf(ack.userId, ack.deviceId);
    for (const userId of candidates) {
      const owed = owedDevices.get(userId);
      if (!owed) continue;
      if (timeline.isMemberAt(ack.conversationId, userId, ack.seq) !== 'yes') continue;
      for (const device of owed) {
        if (device.key === senderKey) continue;
        const linked = history[device.linkedIdx]!;
        if (linked.atMs > ack.atMs) continue;
        if (firstObservation(device.conversations.get(ack.conversationId), ack.seq) >= 0) continue;
        sink.report(() => {
          const sendIdx = index.firstSend.get(key);
          const witness: HistoryEvent[] = [];
          if (sendIdx !== undefined) witness.push(history[sendIdx]!);
          witness.push(ack, linked, quiesce);
          return {
            message:
              `message ${ack.clientMessageId} from ${senderKey} acked at seq ${ack.seq} of ${ack.conversationId} ` +
              `was never delivered to ${device.key} (linked at ${linked.atMs} ms, member at that seq, quiesced at ${quiesce.atMs} ms)`,
            conversationId: ack.conversationId,
            userId: device.userId,
            deviceId: device.deviceId,
            seq: ack.seq,
            clientMessageId: ack.clientMessageId,
            witness,
          };
        });
      }
    }
  }
}

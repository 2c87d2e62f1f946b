import type { AckEvent, HistoryEvent, QueuedEvent, QuiesceEvent } from './history.js';
import { deviceKeyOf, toIndex, type DeviceRecord, type HistoryIndex, type HistoryInput } from './history-index.js';
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
 * no violation is reported (the invariant still counts as checked; checkHistory adds a note).
 * Users whose membership at the seq is unknown are skipped.
 *
 * A message the server answered `queued` (taken into its write-ahead log during a store outage)
 * counts as acked too: it must have received its seq (an `ack`) before the quiesce.
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
  for (const [userId, byId] of index.devicesByUser) {
    const owed = [...byId.values()].filter((d) => d.linkedIdx >= 0 && quiesced.has(d.key));
    if (owed.length > 0) owedDevices.set(userId, owed);
  }

  checkQueuedGotSeq(index, sink, quiesce);

  // Acked messages before the quiesce, grouped by conversation (history order within each).
  const acksByConversation = new Map<string, AckEvent[]>();
  for (const i of index.firstAcks) {
    if (i > index.lastQuiesce) break;
    const ack = history[i] as AckEvent;
    let list = acksByConversation.get(ack.conversationId);
    if (!list) {
      list = [];
      acksByConversation.set(ack.conversationId, list);
    }
    list.push(ack);
  }

  for (const [conversationId, acks] of acksByConversation) {
    for (const userId of timeline.candidateMembers(conversationId) ?? []) {
      const owed = owedDevices.get(userId);
      if (!owed) continue;
      const devices = owed.map((device) => ({
        device,
        linkedAtMs: history[device.linkedIdx]!.atMs,
        observations: device.conversations.get(conversationId),
      }));
      for (const ack of acks) {
        if (timeline.isMemberAt(conversationId, userId, ack.seq) !== 'yes') continue;
        for (const { device, linkedAtMs, observations } of devices) {
          if (linkedAtMs > ack.atMs) continue;
          if (observations && (observations.delivered.has(ack.seq) || observations.acked?.has(ack.seq))) continue;
          if (device.userId === ack.userId && device.deviceId === ack.deviceId) continue;
          sink.report(() => {
            const sendIdx = index.message(ack.userId, ack.deviceId, conversationId, ack.clientMessageId)?.firstSend ?? -1;
            const witness: HistoryEvent[] = [];
            if (sendIdx >= 0) witness.push(history[sendIdx]!);
            witness.push(ack, history[device.linkedIdx]!, quiesce);
            witness.sort((a, b) => a.atMs - b.atMs); // stable: history order for equal times
            return {
              message:
                `message ${ack.clientMessageId} from ${deviceKeyOf(ack.userId, ack.deviceId)} acked at seq ${ack.seq} of ${conversationId} ` +
                `was never delivered to ${device.key} (linked at ${linkedAtMs} ms, member at that seq, quiesced at ${quiesce.atMs} ms)`,
              conversationId,
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
}

/** Every `queued` answer before the quiesce was followed by the message's seq before it. */
function checkQueuedGotSeq(index: HistoryIndex, sink: ViolationSink, quiesce: QuiesceEvent): void {
  const { history } = index;
  const reported = new Set<string>();
  for (let i = 0; i < index.lastQuiesce; i++) {
    const e = history[i]!;
    if (e.type !== 'queued') continue;
    const m = index.message(e.userId, e.deviceId, e.conversationId, e.clientMessageId);
    const numberedIdx = m && m.firstAck >= 0 ? m.firstAck : -1;
    if (numberedIdx >= 0 && numberedIdx < index.lastQuiesce) continue;
    const key = `${e.userId} ${e.deviceId} ${e.conversationId} ${e.clientMessageId}`;
    if (reported.has(key)) continue;
    reported.add(key);
    const queued: QueuedEvent = e;
    sink.report(() => ({
      message:
        `message ${queued.clientMessageId} from ${deviceKeyOf(queued.userId, queued.deviceId)} was queued in ${queued.conversationId} ` +
        `(write-ahead log) but never got a seq before the run quiesced at ${quiesce.atMs} ms`,
      conversationId: queued.conversationId,
      userId: queued.userId,
      deviceId: queued.deviceId,
      clientMessageId: queued.clientMessageId,
      witness: [queued, quiesce],
    }));
  }
}

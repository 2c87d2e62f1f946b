import type { HistoryEvent } from './history.js';
import { deviceKeyOf, toIndex, type HistoryIndex, type HistoryInput } from './history-index.js';
import type { CheckOptions } from './options.js';
import { ViolationSink, type Violation } from './violation.js';

/**
 * membership — no device receives a message of a conversation its user is not in; a
 * non-member cannot post.
 *
 * 1. No `deliver` of a `message` at a seq where the receiving device's user was not a member.
 * 2. No acked message at a seq where its sender was not a member.
 *
 * Membership comes from the timeline (see membership-timeline.ts); `unknown` is never flagged.
 */
export function membership(history: HistoryInput, options: CheckOptions = {}): Violation[] {
  const sink = new ViolationSink('membership', options.maxViolationsPerInvariant);
  checkMembership(toIndex(history), sink);
  return sink.violations;
}

export function checkMembership(index: HistoryIndex, sink: ViolationSink): void {
  const { history, timeline } = index;
  for (let i = 0; i < history.length; i++) {
    const e = history[i]!;
    if (e.type === 'deliver' && e.kind === 'message') {
      if (timeline.isMemberAt(e.conversationId, e.userId, e.seq) !== 'no') continue;
      const answer = timeline.membershipAt(e.conversationId, e.userId, e.seq);
      sink.report(() => ({
        message:
          `${deviceKeyOf(e.userId, e.deviceId)} received message ${e.clientMessageId ?? '?'} at seq ${e.seq} of ` +
          `${e.conversationId}, but ${e.userId} was not a member there` +
          because(answer.evidence),
        conversationId: e.conversationId,
        userId: e.userId,
        deviceId: e.deviceId,
        seq: e.seq,
        ...(e.clientMessageId === undefined ? {} : { clientMessageId: e.clientMessageId }),
        witness: answer.evidence ? [answer.evidence, e] : [e],
      }));
    } else if (e.type === 'ack') {
      const m = index.message(e.userId, e.deviceId, e.conversationId, e.clientMessageId)!;
      if (m.firstAck !== i) continue; // one report per message, not per re-ack
      const answer = timeline.membershipAt(e.conversationId, e.userId, e.seq);
      if (answer.status !== 'no') continue;
      sink.report(() => {
        const witness: HistoryEvent[] = [];
        if (answer.evidence) witness.push(answer.evidence);
        if (m.firstSend >= 0) witness.push(history[m.firstSend]!);
        witness.push(e);
        return {
          message:
            `${deviceKeyOf(e.userId, e.deviceId)} posted ${e.clientMessageId} to ${e.conversationId} and it was acked at seq ${e.seq}, ` +
            `but ${e.userId} was not a member there` +
            because(answer.evidence),
          conversationId: e.conversationId,
          userId: e.userId,
          deviceId: e.deviceId,
          seq: e.seq,
          clientMessageId: e.clientMessageId,
          witness,
        };
      });
    }
  }
}

function because(evidence: HistoryEvent | undefined): string {
  if (!evidence || evidence.type !== 'deliver') return '';
  if (evidence.op === 'created') return ` (not among the initial members at seq ${evidence.seq})`;
  return ` (${evidence.op ?? '?'} at seq ${evidence.seq})`;
}

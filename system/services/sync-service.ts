import type { ConversationEvent } from '../core/events.js';
import { isDirectConversation, type ConversationId, type Seq } from '../core/ids.js';
import type { Caller } from './caller.js';
import type { CoreDeps } from './deps.js';
import { isReadable, type Membership } from './membership.js';

export interface SyncPage {
  events: ConversationEvent[];
  hasMore: boolean;
  lastSeq: Seq;
}

export interface ConversationSummary {
  conversationId: ConversationId;
  kind: 'direct' | 'group';
  lastSeq: Seq;
  name?: string;
}

/**
 * Catch-up and history. A device resumes from its cursor (`sync`: everything after a seq, in
 * order) or pages back (`history`); both only return events of stretches in which the caller's
 * user was a member, so a newly linked device can read its user's past but nobody else's.
 * A device without a cursor syncs from its link point (`fromLink`): what it can be owed starts
 * with the first event accepted after it was linked (earlier ones were encrypted for the devices
 * of that time, and the offline inbox never held them for it).
 */
export class SyncService {
  constructor(
    private readonly deps: Pick<CoreDeps, 'messages' | 'conversations' | 'directory' | 'limits'>,
    private readonly membership: Membership,
  ) {}

  async after(caller: Caller, conversationId: ConversationId, afterSeq: Seq, limit?: number, fromLink = false): Promise<SyncPage> {
    if (fromLink) afterSeq = Math.max(afterSeq, (await this.linkPoint(caller, conversationId)) - 1);
    const spans = await this.membership.readableSpans(conversationId, caller.userId);
    const pageMax = this.pageSize(limit);
    const lastSeq = await this.deps.messages.lastSeq(conversationId);
    const events: ConversationEvent[] = [];
    // Skip straight to the first readable seq instead of reading stretches the user cannot see.
    let cursor = Math.max(afterSeq, (spans[0]?.fromSeq ?? 1) - 1);
    while (events.length < pageMax && cursor < lastSeq) {
      const batch = await this.deps.messages.readAfter(conversationId, cursor, pageMax);
      if (batch.length === 0) break;
      for (const event of batch) {
        cursor = event.seq;
        if (isReadable(spans, event.seq)) events.push(event);
        if (events.length >= pageMax) break;
      }
      const nextSpan = spans.find((s) => s.fromSeq > cursor);
      const inSpan = spans.some((s) => cursor >= s.fromSeq - 1 && cursor < s.toSeq);
      if (!inSpan) {
        if (!nextSpan) break;
        cursor = nextSpan.fromSeq - 1;
      }
    }
    const lastReadable = Math.min(lastSeq, spans[spans.length - 1]?.toSeq ?? lastSeq);
    return { events, hasMore: cursor < lastReadable, lastSeq };
  }

  async before(
    caller: Caller,
    conversationId: ConversationId,
    beforeSeq: Seq | undefined,
    limit?: number,
  ): Promise<{ events: ConversationEvent[]; hasMore: boolean }> {
    const spans = await this.membership.readableSpans(conversationId, caller.userId);
    const pageMax = this.pageSize(limit);
    let cursor = beforeSeq ?? (await this.deps.messages.lastSeq(conversationId)) + 1;
    const firstReadable = spans[0]?.fromSeq ?? 1;
    const collected: ConversationEvent[] = [];
    while (collected.length < pageMax && cursor > firstReadable) {
      const batch = await this.deps.messages.readBefore(conversationId, cursor, pageMax);
      if (batch.length === 0) break;
      for (let i = batch.length - 1; i >= 0 && collected.length < pageMax; i--) {
        const event = batch[i]!;
        cursor = event.seq;
        if (isReadable(spans, event.seq)) collected.push(event);
      }
    }
    collected.reverse();
    return { events: collected, hasMore: cursor > firstReadable };
  }

  async conversations(caller: Caller): Promise<ConversationSummary[]> {
    const ids = await this.deps.conversations.listConversations(caller.userId);
    return Promise.all(
      ids.map(async (conversationId): Promise<ConversationSummary> => {
        const lastSeq = await this.deps.messages.lastSeq(conversationId);
        if (isDirectConversation(conversationId)) return { conversationId, kind: 'direct', lastSeq };
        const group = await this.deps.conversations.getGroup(conversationId);
        const summary: ConversationSummary = { conversationId, kind: 'group', lastSeq };
        if (group) summary.name = group.name;
        return summary;
      }),
    );
  }

  /**
   * The first seq of the conversation accepted at or after the caller's device was linked
   * (lastSeq + 1 when none is). Acceptance times rise with seq, so: one store read when the
   * conversation began after the link, a binary search over seq (about log2(lastSeq) reads)
   * otherwise. A device without a record (unlinked meanwhile) gets the plain readable history.
   * Acceptance times come from the gateways' clocks: an event accepted within the clock skew
   * between gateways of the link may fall on the wrong side of the point (a known limit; NTP keeps
   * that to milliseconds, and links do not race sends in the load driver or the simulator).
   */
  private async linkPoint(caller: Caller, conversationId: ConversationId): Promise<Seq> {
    const device = await this.deps.directory.getDevice(caller);
    if (!device) return 1;
    const [first] = await this.deps.messages.readAfter(conversationId, 0, 1);
    if (!first || first.serverTimeMs >= device.linkedAtMs) return 1;
    let low = first.seq + 1;
    let high = (await this.deps.messages.lastSeq(conversationId)) + 1;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const [event] = await this.deps.messages.readAfter(conversationId, middle - 1, 1);
      if (!event || event.serverTimeMs >= device.linkedAtMs) high = middle;
      else low = event.seq + 1;
    }
    return low;
  }

  private pageSize(limit: number | undefined): number {
    return Math.min(limit ?? this.deps.limits.pageEventsMax, this.deps.limits.pageEventsMax);
  }
}

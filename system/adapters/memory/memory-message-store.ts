import type { ConversationEvent, ConversationEventDraft } from '../../core/events.js';
import type { ConversationId, Seq } from '../../core/ids.js';
import type { AppendResult, MessageStore } from '../../ports/message-store.js';

interface ConversationLog {
  events: ConversationEvent[];
  /** idempotency key → index in events */
  byClientId: Map<string, number>;
}

/** The embedded conversation log: one array per conversation, index = seq - 1. */
export class MemoryMessageStore implements MessageStore {
  private readonly logs = new Map<ConversationId, ConversationLog>();

  async append(draft: ConversationEventDraft): Promise<AppendResult> {
    const log = this.logFor(draft.conversationId);
    if (draft.kind === 'message') {
      const key = `${draft.senderUserId}/${draft.senderDeviceId}/${draft.clientMessageId}`;
      const existing = log.byClientId.get(key);
      if (existing !== undefined) return { event: log.events[existing]!, duplicate: true };
      log.byClientId.set(key, log.events.length);
    }
    const event = { ...draft, seq: log.events.length + 1 } as ConversationEvent;
    log.events.push(event);
    return { event, duplicate: false };
  }

  async readAfter(conversationId: ConversationId, afterSeq: Seq, limit: number): Promise<ConversationEvent[]> {
    const events = this.logs.get(conversationId)?.events ?? [];
    return events.slice(afterSeq, afterSeq + limit);
  }

  async readBefore(conversationId: ConversationId, beforeSeq: Seq, limit: number): Promise<ConversationEvent[]> {
    const events = this.logs.get(conversationId)?.events ?? [];
    const end = Math.min(beforeSeq - 1, events.length);
    return events.slice(Math.max(0, end - limit), Math.max(0, end));
  }

  async lastSeq(conversationId: ConversationId): Promise<Seq> {
    return this.logs.get(conversationId)?.events.length ?? 0;
  }

  /** Every stored event (for confidentiality scans in tests). */
  *allEvents(): IterableIterator<ConversationEvent> {
    for (const log of this.logs.values()) yield* log.events;
  }

  private logFor(conversationId: ConversationId): ConversationLog {
    let log = this.logs.get(conversationId);
    if (!log) {
      log = { events: [], byClientId: new Map() };
      this.logs.set(conversationId, log);
    }
    return log;
  }
}

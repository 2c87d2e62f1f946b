import type { ConversationEvent, ConversationEventDraft } from '../core/events.js';
import type { ConversationId, Seq } from '../core/ids.js';

export interface AppendResult {
  event: ConversationEvent;
  /** True when a chat message with the same (conversation, sender device, client message id) existed. */
  duplicate: boolean;
}

/**
 * The durable conversation log. Each conversation's events are numbered 1, 2, 3, … with no gaps.
 * Appending a chat message is idempotent on (conversationId, senderUserId, senderDeviceId,
 * clientMessageId): a repeat returns the stored event instead of numbering a new one.
 */
export interface MessageStore {
  append(draft: ConversationEventDraft): Promise<AppendResult>;
  /** Events with seq > afterSeq, ascending, at most `limit`. */
  readAfter(conversationId: ConversationId, afterSeq: Seq, limit: number): Promise<ConversationEvent[]>;
  /** Events with seq < beforeSeq, the newest `limit` of them, ascending. */
  readBefore(conversationId: ConversationId, beforeSeq: Seq, limit: number): Promise<ConversationEvent[]>;
  /** The highest seq in the conversation, 0 when it has no events. */
  lastSeq(conversationId: ConversationId): Promise<Seq>;
}

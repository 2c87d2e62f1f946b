import { ChatError } from '../core/errors.js';
import type { ConversationEventDraft } from '../core/events.js';
import type { ConversationId, Seq } from '../core/ids.js';
import type { AppendResult, MessageStore } from '../ports/message-store.js';

/**
 * Test-only: a message store with an outage switch. While `down`, every call fails the way the
 * Cassandra adapter fails in an outage (STORAGE_UNAVAILABLE), so the write-ahead path can be
 * exercised without stopping a real database (the real one is stopped in the cluster fault test).
 */
export class OutageMessageStore implements MessageStore {
  down = false;
  appendsRefused = 0;

  constructor(private readonly inner: MessageStore) {}

  append(draft: ConversationEventDraft): Promise<AppendResult> {
    if (this.down) {
      this.appendsRefused += 1;
      return Promise.reject(new ChatError('STORAGE_UNAVAILABLE', 'test outage: message store down'));
    }
    return this.inner.append(draft);
  }

  readAfter(conversationId: ConversationId, afterSeq: Seq, limit: number) {
    return this.guard(() => this.inner.readAfter(conversationId, afterSeq, limit));
  }

  readBefore(conversationId: ConversationId, beforeSeq: Seq, limit: number) {
    return this.guard(() => this.inner.readBefore(conversationId, beforeSeq, limit));
  }

  lastSeq(conversationId: ConversationId) {
    return this.guard(() => this.inner.lastSeq(conversationId));
  }

  private guard<T>(call: () => Promise<T>): Promise<T> {
    return this.down ? Promise.reject(new ChatError('STORAGE_UNAVAILABLE', 'test outage: message store down')) : call();
  }
}

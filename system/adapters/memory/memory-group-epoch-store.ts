import type { ConversationId } from '../../core/ids.js';
import type { CommitRef, EpochAdvance, GroupEpochStore } from '../../ports/group-epoch-store.js';

/** Epochs in memory: per conversation, the commit that opened each epoch (index = epoch - 1). */
export class MemoryGroupEpochStore implements GroupEpochStore {
  private readonly openers = new Map<ConversationId, CommitRef[]>();

  async current(conversationId: ConversationId): Promise<number> {
    return this.openers.get(conversationId)?.length ?? 0;
  }

  async advance(conversationId: ConversationId, fromEpoch: number, commit: CommitRef): Promise<EpochAdvance> {
    const openers = this.openers.get(conversationId) ?? [];
    const opener = openers[fromEpoch];
    if (opener && sameCommit(opener, commit)) return { outcome: 'repeat' };
    if (fromEpoch !== openers.length) return { outcome: 'conflict', currentEpoch: openers.length };
    openers.push({ ...commit });
    this.openers.set(conversationId, openers);
    return { outcome: 'advanced' };
  }
}

function sameCommit(a: CommitRef, b: CommitRef): boolean {
  return a.userId === b.userId && a.deviceId === b.deviceId && a.clientMessageId === b.clientMessageId;
}

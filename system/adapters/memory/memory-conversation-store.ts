import type { ConversationId, Seq, UserId } from '../../core/ids.js';
import type { ConversationStore, GroupRecord, MemberRole } from '../../ports/conversation-store.js';

/** Up to this many conversations per user are kept in an array (a Set costs several times more). */
const SMALL_LIST_MAX = 8;

export class MemoryConversationStore implements ConversationStore {
  private readonly groups = new Map<ConversationId, GroupRecord>();
  /** Each user's conversations in the order first noted: an array while short, then a Set. */
  private readonly byUser = new Map<UserId, ConversationId[] | Set<ConversationId>>();

  async createGroup(record: GroupRecord): Promise<void> {
    // A copy the caller cannot change afterwards; the strings are immutable and shared (a deep
    // clone would copy every member's id, which at a million users is real memory).
    this.groups.set(record.conversationId, { ...record, spans: record.spans.map((span) => ({ ...span })) });
    for (const span of record.spans) await this.noteParticipant(span.userId, record.conversationId);
  }

  /**
   * Returns the stored record itself, not a copy: copying 256 spans on every message of a big
   * group costs more than the rest of the send. Callers treat it as read-only.
   */
  async getGroup(conversationId: ConversationId): Promise<GroupRecord | undefined> {
    return this.groups.get(conversationId);
  }

  async addMembers(conversationId: ConversationId, userIds: UserId[], atSeq: Seq): Promise<void> {
    const group = this.requireGroup(conversationId);
    for (const userId of userIds) {
      group.spans.push({ userId, role: 'member', fromSeq: atSeq });
      await this.noteParticipant(userId, conversationId);
    }
  }

  async endMembership(conversationId: ConversationId, userId: UserId, atSeq: Seq): Promise<void> {
    const span = this.requireGroup(conversationId).spans.find((s) => s.userId === userId && s.toSeq === undefined);
    if (span) span.toSeq = atSeq;
  }

  async setRole(conversationId: ConversationId, userId: UserId, role: MemberRole): Promise<void> {
    const span = this.requireGroup(conversationId).spans.find((s) => s.userId === userId && s.toSeq === undefined);
    if (span) span.role = role;
  }

  async noteParticipant(userId: UserId, conversationId: ConversationId): Promise<void> {
    const known = this.byUser.get(userId);
    if (!known) {
      this.byUser.set(userId, [conversationId]);
    } else if (known instanceof Set) {
      known.add(conversationId);
    } else if (!known.includes(conversationId)) {
      if (known.length < SMALL_LIST_MAX) known.push(conversationId);
      else this.byUser.set(userId, new Set([...known, conversationId]));
    }
  }

  async listConversations(userId: UserId): Promise<ConversationId[]> {
    return [...(this.byUser.get(userId) ?? [])];
  }

  private requireGroup(conversationId: ConversationId): GroupRecord {
    const group = this.groups.get(conversationId);
    if (!group) throw new Error(`no group ${conversationId}`);
    return group;
  }
}

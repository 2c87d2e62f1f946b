import type { ConversationId, Seq, UserId } from '../core/ids.js';

export type MemberRole = 'admin' | 'member';

/** One stretch of a user's membership: from the event that added them to the one that removed them. */
export interface MembershipSpan {
  userId: UserId;
  role: MemberRole;
  /** Seq of the event that made the user a member (`created` or `added`). */
  fromSeq: Seq;
  /** Seq of the event that ended it (`removed` or `left`); absent while the user is a member. */
  toSeq?: Seq;
}

export interface GroupRecord {
  conversationId: ConversationId;
  name: string;
  createdBy: UserId;
  createdAtMs: number;
  /** Every span, current and past. Current members are the spans without toSeq. */
  spans: MembershipSpan[];
}

/**
 * Conversation metadata: groups with their membership history, and the list of conversations
 * each user takes part in (1:1 conversations are recorded when their first event is stored).
 */
export interface ConversationStore {
  createGroup(record: GroupRecord): Promise<void>;
  getGroup(conversationId: ConversationId): Promise<GroupRecord | undefined>;
  /** Opens a span for each user, starting at `atSeq`. */
  addMembers(conversationId: ConversationId, userIds: UserId[], atSeq: Seq): Promise<void>;
  /** Closes the user's open span at `atSeq`. */
  endMembership(conversationId: ConversationId, userId: UserId, atSeq: Seq): Promise<void>;
  setRole(conversationId: ConversationId, userId: UserId, role: MemberRole): Promise<void>;
  /** Records that the user takes part in the conversation (idempotent). */
  noteParticipant(userId: UserId, conversationId: ConversationId): Promise<void>;
  listConversations(userId: UserId): Promise<ConversationId[]>;
}

import { ChatError } from '../core/errors.js';
import { directParticipants, isDirectConversation, isGroupConversation, type ConversationId, type Seq, type UserId } from '../core/ids.js';
import type { GroupRecord, MembershipSpan } from '../ports/conversation-store.js';
import type { CoreDeps } from './deps.js';

/** A stretch of seqs a user may read: [fromSeq, toSeq], toSeq inclusive (Infinity = still a member). */
export interface ReadableSpan {
  fromSeq: Seq;
  toSeq: Seq;
}

export type ConversationMembers = { kind: 'direct'; members: UserId[] } | { kind: 'group'; members: UserId[]; group: GroupRecord };

/**
 * Who is in a conversation, now and at each point of its history. 1:1 conversations have their
 * two users from seq 1; groups have membership spans recorded by the group service.
 */
/**
 * Users seen to exist, kept per process. A user, once registered, stays (devices come and go), so
 * a positive answer never goes stale; caching it keeps 1:1 sends off the directory — and lets them
 * be accepted into the write-ahead log while the directory's store is down.
 */
const KNOWN_USERS_MAX = 100_000;

export class Membership {
  private readonly knownUsers = new Set<UserId>();

  constructor(private readonly deps: Pick<CoreDeps, 'conversations' | 'directory'>) {}

  private async userExists(userId: UserId): Promise<boolean> {
    if (this.knownUsers.has(userId)) return true;
    const exists = await this.deps.directory.userExists(userId);
    if (exists) {
      if (this.knownUsers.size >= KNOWN_USERS_MAX) this.knownUsers.clear();
      this.knownUsers.add(userId);
    }
    return exists;
  }

  /** Current members; throws UNKNOWN_CONVERSATION or NOT_A_MEMBER when `userId` may not post. */
  async requireMember(conversationId: ConversationId, userId: UserId): Promise<ConversationMembers> {
    const participants = directParticipants(conversationId);
    if (participants) {
      if (!participants.includes(userId)) throw new ChatError('NOT_A_MEMBER', `you are not a participant of ${conversationId}`);
      const other = participants[0] === userId ? participants[1] : participants[0];
      if (!(await this.userExists(other))) throw new ChatError('UNKNOWN_USER', `no user ${other}`);
      return { kind: 'direct', members: participants };
    }
    const group = await this.requireGroup(conversationId);
    const members = currentSpans(group).map((s) => s.userId);
    if (!members.includes(userId)) throw new ChatError('NOT_A_MEMBER', `you are not a member of ${conversationId}`);
    return { kind: 'group', members, group };
  }

  async requireGroup(conversationId: ConversationId): Promise<GroupRecord> {
    if (isDirectConversation(conversationId)) {
      throw new ChatError('UNKNOWN_CONVERSATION', `${conversationId} is not a canonical 1:1 id (dm:<first user>:<second user>, sorted)`);
    }
    const group = isGroupConversation(conversationId) ? await this.deps.conversations.getGroup(conversationId) : undefined;
    if (!group) throw new ChatError('UNKNOWN_CONVERSATION', `no conversation ${conversationId}`);
    return group;
  }

  /** The seqs the user may read (history, sync, media); throws NOT_A_MEMBER when there are none. */
  async readableSpans(conversationId: ConversationId, userId: UserId): Promise<ReadableSpan[]> {
    const participants = directParticipants(conversationId);
    if (participants) {
      if (!participants.includes(userId)) throw new ChatError('NOT_A_MEMBER', `you are not a participant of ${conversationId}`);
      return [{ fromSeq: 1, toSeq: Infinity }];
    }
    const group = await this.requireGroup(conversationId);
    const spans = group.spans
      .filter((s) => s.userId === userId)
      .map((s) => ({ fromSeq: s.fromSeq, toSeq: s.toSeq ?? Infinity }))
      .sort((a, b) => a.fromSeq - b.fromSeq);
    if (spans.length === 0) throw new ChatError('NOT_A_MEMBER', `you were never a member of ${conversationId}`);
    return spans;
  }
}

export function currentSpans(group: GroupRecord): MembershipSpan[] {
  return group.spans.filter((s) => s.toSeq === undefined);
}

/** Users who were members at `seq` (their span covers it, exit event included). */
export function membersAt(group: GroupRecord, seq: Seq): UserId[] {
  const users = group.spans.filter((s) => s.fromSeq <= seq && (s.toSeq === undefined || s.toSeq >= seq)).map((s) => s.userId);
  return [...new Set(users)];
}

export function isReadable(spans: readonly ReadableSpan[], seq: Seq): boolean {
  return spans.some((s) => seq >= s.fromSeq && seq <= s.toSeq);
}

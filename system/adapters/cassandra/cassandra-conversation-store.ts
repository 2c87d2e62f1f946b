/**
 * Groups and conversation lists. A group is one partition of `groups`: name, creator and creation
 * time as static columns, one clustering row per membership span (user_id, from_seq), so
 * getGroup — on the path of every group send — is a single-partition read. Each user's
 * conversations are a partition of `user_conversations`.
 */
import type { ConversationId, Seq, UserId } from '../../core/ids.js';
import type { ConversationStore, GroupRecord, MemberRole, MembershipSpan } from '../../ports/conversation-store.js';
import { forEachLimited, num, optNum, optText, type Cql } from './cql.js';

/** Parallel writes when listing a group for each of its (up to 256) members. */
const PARTICIPANT_WRITES_IN_FLIGHT = 32;

export class CassandraConversationStore implements ConversationStore {
  private readonly q: ReturnType<typeof conversationStatements>;

  constructor(private readonly cql: Cql) {
    this.q = conversationStatements(cql);
  }

  async createGroup(record: GroupRecord): Promise<void> {
    // One partition, one batch: the group appears with all its spans at once.
    await this.cql.writePartitionBatch(
      [
        { query: this.q.writeGroup, params: [record.name, record.createdBy, record.createdAtMs, record.conversationId] },
        ...record.spans.map((span) => ({
          query: this.q.writeSpan,
          params: [record.conversationId, span.userId, span.fromSeq, span.role, span.toSeq],
        })),
      ],
      true,
    );
    await this.noteParticipants(
      record.spans.map((s) => s.userId),
      record.conversationId,
    );
  }

  async getGroup(conversationId: ConversationId): Promise<GroupRecord | undefined> {
    const rows = await this.cql.collect(this.q.readGroup, [conversationId], Number.MAX_SAFE_INTEGER);
    const first = rows[0];
    const createdBy = optText(first?.get('created_by'));
    if (!first || createdBy === undefined) return undefined;
    const spans: MembershipSpan[] = [];
    for (const row of rows) {
      const userId = optText(row.get('user_id'));
      if (userId === undefined) continue; // the static-only row of a group without spans
      const span: MembershipSpan = { userId, role: row.get('role') as MemberRole, fromSeq: num(row.get('from_seq')) };
      const toSeq = optNum(row.get('to_seq'));
      if (toSeq !== undefined) span.toSeq = toSeq;
      spans.push(span);
    }
    return {
      conversationId,
      name: optText(first.get('group_name')) ?? '',
      createdBy,
      createdAtMs: num(first.get('created_at_ms')),
      spans,
    };
  }

  async addMembers(conversationId: ConversationId, userIds: UserId[], atSeq: Seq): Promise<void> {
    await this.cql.writePartitionBatch(
      userIds.map((userId) => ({ query: this.q.writeSpan, params: [conversationId, userId, atSeq, 'member', undefined] })),
      true,
    );
    await this.noteParticipants(userIds, conversationId);
  }

  async endMembership(conversationId: ConversationId, userId: UserId, atSeq: Seq): Promise<void> {
    for (const fromSeq of await this.openSpans(conversationId, userId)) {
      await this.cql.write(this.q.endSpan, [atSeq, conversationId, userId, fromSeq], true);
    }
  }

  async setRole(conversationId: ConversationId, userId: UserId, role: MemberRole): Promise<void> {
    for (const fromSeq of await this.openSpans(conversationId, userId)) {
      await this.cql.write(this.q.setRole, [role, conversationId, userId, fromSeq], true);
    }
  }

  async noteParticipant(userId: UserId, conversationId: ConversationId): Promise<void> {
    await this.cql.write(this.q.noteParticipant, [userId, conversationId], true);
  }

  async listConversations(userId: UserId): Promise<ConversationId[]> {
    const rows = await this.cql.collect(this.q.listConversations, [userId], Number.MAX_SAFE_INTEGER);
    return rows.map((r) => String(r.get('conversation_id')));
  }

  /** from_seq of the user's spans without to_seq (normally one), read so that it sees every acknowledged write. */
  private async openSpans(conversationId: ConversationId, userId: UserId): Promise<Seq[]> {
    const rows = await this.cql.read(this.q.readUserSpans, [conversationId, userId], this.cql.settings.writeConsistency);
    return rows.filter((r) => optNum(r.get('to_seq')) === undefined).map((r) => num(r.get('from_seq')));
  }

  private async noteParticipants(userIds: readonly UserId[], conversationId: ConversationId): Promise<void> {
    await forEachLimited([...new Set(userIds)], PARTICIPANT_WRITES_IN_FLIGHT, (userId) => this.noteParticipant(userId, conversationId));
  }
}

function conversationStatements(cql: Cql) {
  const groups = cql.table('groups');
  return {
    writeGroup: `UPDATE ${groups} SET group_name = ?, created_by = ?, created_at_ms = ? WHERE conversation_id = ?`,
    writeSpan: `INSERT INTO ${groups} (conversation_id, user_id, from_seq, role, to_seq) VALUES (?, ?, ?, ?, ?)`,
    readGroup: `SELECT group_name, created_by, created_at_ms, user_id, from_seq, role, to_seq FROM ${groups} WHERE conversation_id = ?`,
    readUserSpans: `SELECT from_seq, to_seq FROM ${groups} WHERE conversation_id = ? AND user_id = ?`,
    endSpan: `UPDATE ${groups} SET to_seq = ? WHERE conversation_id = ? AND user_id = ? AND from_seq = ?`,
    setRole: `UPDATE ${groups} SET role = ? WHERE conversation_id = ? AND user_id = ? AND from_seq = ?`,
    noteParticipant: `INSERT INTO ${cql.table('user_conversations')} (user_id, conversation_id) VALUES (?, ?)`,
    listConversations: `SELECT conversation_id FROM ${cql.table('user_conversations')} WHERE user_id = ?`,
  };
}

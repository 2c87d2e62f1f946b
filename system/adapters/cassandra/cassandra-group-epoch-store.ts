/**
 * MLS epochs on Cassandra: table `mls_epochs`, one partition per conversation, one row per epoch
 * naming the commit that opened it (newest first). Epoch E+1 is claimed with
 * `INSERT … IF NOT EXISTS` after a SERIAL read showed E to be the newest row: a row E+1 can only
 * exist once row E does, so the epochs have no gaps, and of racing commits for E exactly one
 * insert applies — on whichever gateway it runs.
 */
import type { ConversationId } from '../../core/ids.js';
import type { CommitRef, EpochAdvance, GroupEpochStore } from '../../ports/group-epoch-store.js';
import { num, optText, type Cql, type Row } from './cql.js';
import { isStorageOutage } from './storage-errors.js';

export class CassandraGroupEpochStore implements GroupEpochStore {
  private readonly q: ReturnType<typeof epochStatements>;

  constructor(private readonly cql: Cql) {
    this.q = epochStatements(cql);
  }

  async current(conversationId: ConversationId): Promise<number> {
    const row = await this.cql.readOne(this.q.readNewest, [conversationId], this.cql.settings.serialConsistency);
    return row ? num(row.get('epoch')) : 0;
  }

  async advance(conversationId: ConversationId, fromEpoch: number, commit: CommitRef): Promise<EpochAdvance> {
    const opened = await this.opener(conversationId, fromEpoch + 1);
    if (opened)
      return sameCommit(opened, commit) ? { outcome: 'repeat' } : { outcome: 'conflict', currentEpoch: await this.current(conversationId) };
    const currentEpoch = await this.current(conversationId);
    if (currentEpoch !== fromEpoch) return { outcome: 'conflict', currentEpoch };
    try {
      const outcome = await this.cql.lwt(this.q.claimEpoch, [
        conversationId,
        fromEpoch + 1,
        commit.userId,
        commit.deviceId,
        commit.clientMessageId,
      ]);
      if (outcome.applied) return { outcome: 'advanced' };
    } catch (error) {
      if (!isStorageOutage(error)) throw error;
      // Outcome unknown: the row settles it. Ours there means our insert applied.
      const after = await this.opener(conversationId, fromEpoch + 1);
      if (after && sameCommit(after, commit)) return { outcome: 'advanced' };
      throw error;
    }
    const winner = await this.opener(conversationId, fromEpoch + 1);
    if (winner && sameCommit(winner, commit)) return { outcome: 'repeat' };
    return { outcome: 'conflict', currentEpoch: await this.current(conversationId) };
  }

  private async opener(conversationId: ConversationId, epoch: number): Promise<CommitRef | undefined> {
    const row = await this.cql.readOne(this.q.readEpoch, [conversationId, epoch], this.cql.settings.serialConsistency);
    return row && commitOf(row);
  }
}

function commitOf(row: Row): CommitRef {
  return {
    userId: optText(row.get('user_id')) ?? '',
    deviceId: optText(row.get('device_id')) ?? '',
    clientMessageId: optText(row.get('client_message_id')) ?? '',
  };
}

function sameCommit(a: CommitRef, b: CommitRef): boolean {
  return a.userId === b.userId && a.deviceId === b.deviceId && a.clientMessageId === b.clientMessageId;
}

function epochStatements(cql: Cql) {
  const epochs = cql.table('mls_epochs');
  return {
    readNewest: `SELECT epoch FROM ${epochs} WHERE conversation_id = ? LIMIT 1`,
    readEpoch: `SELECT user_id, device_id, client_message_id FROM ${epochs} WHERE conversation_id = ? AND epoch = ?`,
    claimEpoch: `INSERT INTO ${epochs} (conversation_id, epoch, user_id, device_id, client_message_id) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS`,
  };
}

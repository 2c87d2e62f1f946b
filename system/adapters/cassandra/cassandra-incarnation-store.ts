/**
 * The log's incarnation on Cassandra: one row of `storage_settings` (name `log_incarnation`),
 * written once with `INSERT … IF NOT EXISTS` at the keyspace's first gateway start and read by
 * every later start. It lives exactly as long as the keyspace: dropping the keyspace (and with it
 * every conversation) is the only way to a new one.
 */
import type { IncarnationStore } from '../../ports/incarnation-store.js';
import { optText, type Cql } from './cql.js';
import { isStorageOutage } from './storage-errors.js';

/** The `storage_settings` row holding the incarnation. */
export const LOG_INCARNATION_SETTING = 'log_incarnation';

export class CassandraIncarnationStore implements IncarnationStore {
  private readonly q: ReturnType<typeof incarnationStatements>;

  /** `setting`: the row's name (tests use their own, so each starts on empty storage). */
  constructor(
    private readonly cql: Cql,
    private readonly setting: string = LOG_INCARNATION_SETTING,
  ) {
    this.q = incarnationStatements(cql);
  }

  async establish(candidate: string): Promise<string> {
    try {
      const outcome = await this.cql.lwt(this.q.insert, [this.setting, candidate]);
      if (outcome.applied) return candidate;
      const stored = optText(outcome.row?.get('value'));
      if (stored) return stored;
    } catch (error) {
      if (!isStorageOutage(error)) throw error;
      // Outcome unknown (a timed-out Paxos round may still apply): the row settles it.
      const stored = await this.read();
      if (stored) return stored;
      throw error;
    }
    const stored = await this.read();
    if (!stored) throw new Error(`storage_settings.${this.setting} of keyspace ${this.cql.keyspace} is neither stored nor insertable`);
    return stored;
  }

  private async read(): Promise<string | undefined> {
    const row = await this.cql.readOne(this.q.read, [this.setting], this.cql.settings.serialConsistency);
    return optText(row?.get('value'));
  }
}

function incarnationStatements(cql: Cql) {
  const settings = cql.table('storage_settings');
  return {
    insert: `INSERT INTO ${settings} (name, value) VALUES (?, ?) IF NOT EXISTS`,
    read: `SELECT value FROM ${settings} WHERE name = ?`,
  };
}

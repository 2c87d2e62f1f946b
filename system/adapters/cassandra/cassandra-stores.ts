/**
 * The composition root's entry point: one driver client (its own connection pool), the schema
 * migrated, and the stores on it.
 *
 *   const stores = await createCassandraStores({ contactPoints: ['127.0.0.1:19042'], localDataCenter: 'datacenter1' });
 *   … stores.messages.append(draft) …
 *   await stores.close();
 */
import type { Client } from 'cassandra-driver';
import { CassandraConversationStore } from './cassandra-conversation-store.js';
import { resolveCassandraConfig, type CassandraConfig, type CassandraSettings } from './cassandra-config.js';
import { CassandraDirectoryStore } from './cassandra-directory-store.js';
import { CassandraGroupEpochStore } from './cassandra-group-epoch-store.js';
import { CassandraIncarnationStore } from './cassandra-incarnation-store.js';
import { CassandraInboxStore } from './cassandra-inbox-store.js';
import { CassandraKeyPackageStore } from './cassandra-key-package-store.js';
import { CassandraMessageStore } from './cassandra-message-store.js';
import { CassandraReceiptStore } from './cassandra-receipt-store.js';
import { Cql, createDriverClient } from './cql.js';
import { migrate, type MigrationReport } from './migrations.js';
import { toStorageError } from './storage-errors.js';

export interface CassandraStores {
  messages: CassandraMessageStore;
  conversations: CassandraConversationStore;
  inbox: CassandraInboxStore;
  receipts: CassandraReceiptStore;
  directory: CassandraDirectoryStore;
  keyPackages: CassandraKeyPackageStore;
  groupEpochs: CassandraGroupEpochStore;
  /** The log's incarnation (a `storage_settings` row, stored at the keyspace's first start). */
  incarnations: CassandraIncarnationStore;
  /** The resolved settings (defaults applied). */
  settings: CassandraSettings;
  /** What the startup migration did (undefined when `migrate: false`). */
  migration: MigrationReport | undefined;
  /** The driver client, for health checks and metrics; the stores own it. */
  client: Client;
  /** The statement layer the stores share (for stores composed by the caller, e.g. the owned log). */
  cql: Cql;
  /**
   * A statement layer on a connection of its own, for work that must not wait behind the traffic:
   * slot lease renewals. Under a surge the shared connection holds thousands of queued writes, and
   * a renewal stuck behind them lets the lease lapse, which stops every conversation of the slot.
   */
  controlCql: Cql;
  /** Waits for background writes (and group-commit batches), then closes every connection. Idempotent. */
  close(): Promise<void>;
}

export interface CreateCassandraStoresOptions {
  /** Apply pending schema migrations before returning (default true). */
  migrate?: boolean;
}

/**
 * Connects, migrates the schema (idempotent) and builds the stores. Rejects with
 * ChatError('STORAGE_UNAVAILABLE') when no contact point answers, and closes the client on any failure.
 */
export async function createCassandraStores(config: CassandraConfig, options: CreateCassandraStoresOptions = {}): Promise<CassandraStores> {
  const settings = resolveCassandraConfig(config);
  const client = createDriverClient(settings);
  let migration: MigrationReport | undefined;
  try {
    try {
      await client.connect();
    } catch (error) {
      throw toStorageError(error, `connect to ${settings.contactPoints.join(',')}`);
    }
    if (options.migrate ?? true) migration = await migrate(client, settings);
  } catch (error) {
    await client.shutdown().catch(() => undefined);
    throw error;
  }
  const cql = new Cql(client, settings);
  const controlClient = createDriverClient(settings);
  try {
    await controlClient.connect();
  } catch (error) {
    await client.shutdown().catch(() => undefined);
    throw toStorageError(error, `connect to ${settings.contactPoints.join(',')}`);
  }
  const controlCql = new Cql(controlClient, settings);
  const messages = new CassandraMessageStore(cql);
  let closing: Promise<void> | undefined;
  return {
    messages,
    conversations: new CassandraConversationStore(cql),
    inbox: new CassandraInboxStore(cql),
    receipts: new CassandraReceiptStore(cql),
    directory: new CassandraDirectoryStore(cql),
    keyPackages: new CassandraKeyPackageStore(cql),
    groupEpochs: new CassandraGroupEpochStore(cql),
    incarnations: new CassandraIncarnationStore(cql),
    settings,
    migration,
    client,
    cql,
    controlCql,
    close() {
      closing ??= (async () => {
        await messages.drain();
        // Writes still waiting for the end of their turn, and group-commit batches in flight.
        await cql.flush();
        await Promise.all([client.shutdown(), controlClient.shutdown()]);
      })();
      return closing;
    },
  };
}

/** Applies the migrations with a short-lived client (for a deploy step or a CLI). */
export async function migrateCassandra(config: CassandraConfig): Promise<MigrationReport> {
  const settings = resolveCassandraConfig(config);
  const client = createDriverClient(settings);
  try {
    try {
      await client.connect();
    } catch (error) {
      throw toStorageError(error, `connect to ${settings.contactPoints.join(',')}`);
    }
    return await migrate(client, settings);
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}

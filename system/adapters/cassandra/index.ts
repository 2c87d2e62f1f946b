/** Cassandra adapters of the storage ports; see docs/storage-cassandra.md. */
export {
  CASSANDRA_DEFAULTS,
  resolveCassandraConfig,
  type CassandraConfig,
  type CassandraSettings,
  type ConsistencyName,
  type SerialConsistencyName,
} from './cassandra-config.js';
export { CassandraConversationStore } from './cassandra-conversation-store.js';
export { CassandraDirectoryStore } from './cassandra-directory-store.js';
export { CassandraIncarnationStore, LOG_INCARNATION_SETTING } from './cassandra-incarnation-store.js';
export { CassandraInboxStore } from './cassandra-inbox-store.js';
export { CassandraKeyPackageStore } from './cassandra-key-package-store.js';
export { CassandraGroupEpochStore } from './cassandra-group-epoch-store.js';
export { CassandraMessageStore } from './cassandra-message-store.js';
export { CassandraReceiptStore } from './cassandra-receipt-store.js';
export { createCassandraStores, migrateCassandra, type CassandraStores, type CreateCassandraStoresOptions } from './cassandra-stores.js';
export { migrate, migrationChecksum, type MigrationReport } from './migrations.js';
export { MIGRATIONS, bucketOf, bucketLastSeq, type Migration } from './schema.js';
export { isStorageOutage, toStorageError } from './storage-errors.js';

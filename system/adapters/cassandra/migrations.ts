/**
 * Applies the schema migrations at startup, idempotently and safely when several processes start
 * at once: the keyspace and bookkeeping tables are created with IF NOT EXISTS, pending migrations
 * run under a lock row taken with a lightweight transaction (concurrent DDL on different
 * coordinators can leave the cluster with disagreeing table ids), and each applied version is
 * recorded in `schema_migrations` with a checksum of its statements.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'cassandra-driver';
import type { CassandraSettings } from './cassandra-config.js';
import { Cql, newUuid, num, optText } from './cql.js';
import { BOOKKEEPING_STATEMENTS, MIGRATIONS, withKeyspace, type Migration } from './schema.js';

export interface MigrationReport {
  keyspace: string;
  /** Versions applied by this call. */
  applied: number[];
  /** Highest version recorded after this call. */
  version: number;
}

/** The lock row expires after this long, so a process that dies while migrating does not block the others forever. */
const LOCK_TTL_SECONDS = 120;
const LOCK_WAIT_MS = 180_000;

export function migrationChecksum(migration: Migration): string {
  return createHash('sha256').update(migration.statements.join('\n;\n')).digest('hex').slice(0, 16);
}

/**
 * Creates the keyspace if missing, applies pending migrations, and records (or checks) the
 * settings the data layout depends on (events per message bucket).
 */
export async function migrate(
  client: Client,
  settings: CassandraSettings,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationReport> {
  const cql = new Cql(client, settings);
  const ks = settings.keyspace;
  await cql.ddl(
    `CREATE KEYSPACE IF NOT EXISTS ${ks} WITH replication = ` +
      `{'class': 'NetworkTopologyStrategy', '${settings.localDataCenter.replaceAll("'", "''")}': ${settings.replicationFactor}}`,
  );
  for (const statement of BOOKKEEPING_STATEMENTS) await cql.ddl(withKeyspace(statement, ks));

  const applied: number[] = [];
  let pending = await pendingMigrations(cql, migrations);
  if (pending.length > 0) {
    const owner = newUuid();
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      const lock = await cql.lwt(
        `INSERT INTO ${cql.table('schema_migration_lock')} (id, owner, acquired_at_ms) VALUES (?, ?, ?) IF NOT EXISTS USING TTL ${LOCK_TTL_SECONDS}`,
        ['migrate', owner, Date.now()],
      );
      if (lock.applied) break;
      if (Date.now() > deadline)
        throw new Error(`schema migration lock of keyspace ${ks} held by another process for over ${LOCK_WAIT_MS} ms`);
      await sleep(250);
      pending = await pendingMigrations(cql, migrations);
      if (pending.length === 0) break;
    }
    try {
      // Re-read under the lock: another process may have finished while we waited.
      for (const migration of await pendingMigrations(cql, migrations)) {
        for (const statement of migration.statements) await cql.ddl(withKeyspace(statement, ks));
        await cql.write(
          `INSERT INTO ${cql.table('schema_migrations')} (version, name, checksum, applied_at_ms) VALUES (?, ?, ?, ?)`,
          [migration.version, migration.name, migrationChecksum(migration), Date.now()],
          true,
        );
        applied.push(migration.version);
      }
    } finally {
      await cql
        .lwt(`DELETE FROM ${cql.table('schema_migration_lock')} WHERE id = ? IF owner = ?`, ['migrate', owner])
        .catch(() => undefined);
    }
  }

  await ensureSetting(cql, 'bucket_events', String(settings.bucketEvents));
  const versions = (await appliedMigrations(cql)).map((m) => m.version);
  return { keyspace: ks, applied, version: versions.length > 0 ? Math.max(...versions) : 0 };
}

async function appliedMigrations(cql: Cql): Promise<{ version: number; checksum: string | undefined }[]> {
  const rows = await cql.collect(
    `SELECT version, checksum FROM ${cql.table('schema_migrations')}`,
    [],
    Number.MAX_SAFE_INTEGER,
    cql.settings.writeConsistency,
  );
  return rows.map((r) => ({ version: num(r.get('version')), checksum: optText(r.get('checksum')) }));
}

async function pendingMigrations(cql: Cql, migrations: readonly Migration[]): Promise<Migration[]> {
  const applied = new Map((await appliedMigrations(cql)).map((m) => [m.version, m.checksum]));
  for (const migration of migrations) {
    const checksum = applied.get(migration.version);
    if (checksum !== undefined && checksum !== migrationChecksum(migration)) {
      throw new Error(
        `schema migration ${migration.version} (${migration.name}) in keyspace ${cql.keyspace} was applied with checksum ${checksum}, ` +
          `the code has ${migrationChecksum(migration)}: released migrations must not be edited; add a new version`,
      );
    }
  }
  return migrations.filter((m) => !applied.has(m.version)).sort((a, b) => a.version - b.version);
}

/** Records a layout setting on first use; afterwards the configured value must match it. */
async function ensureSetting(cql: Cql, name: string, value: string): Promise<void> {
  const outcome = await cql.lwt(`INSERT INTO ${cql.table('storage_settings')} (name, value) VALUES (?, ?) IF NOT EXISTS`, [name, value]);
  if (outcome.applied) return;
  const stored = optText(outcome.row?.get('value'));
  if (stored !== value) {
    throw new Error(
      `keyspace ${cql.keyspace} was created with ${name}=${stored}; the configuration says ${value}. The data layout depends on it: keep ${stored}.`,
    );
  }
}

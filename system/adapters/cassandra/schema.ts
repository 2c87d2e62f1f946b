/**
 * The Cassandra schema as versioned migrations. docs/storage-cassandra.md explains each table,
 * its keys and its compaction. A migration is never edited once released (its checksum is
 * recorded); changes go into a new version. `{ks}` stands for the keyspace.
 */
import type { Seq } from '../../core/ids.js';

export interface Migration {
  version: number;
  name: string;
  /** CQL statements, each idempotent (IF NOT EXISTS), run in order. */
  statements: readonly string[];
}

/** Columns holding one conversation event; shared by `messages` and `inbox`. */
export const EVENT_COLUMNS_DDL = `
  kind text,
  sender_user_id text,
  sender_device_id text,
  client_message_id text,
  body blob,
  body_text text,
  media_object_key text,
  media_content_type text,
  media_size_bytes bigint,
  op text,
  actor_user_id text,
  user_ids frozen<list<text>>,
  name text,
  server_time_ms bigint`;

/**
 * Messages: immutable, append-only, read newest-first. Seven-day windows: a partition (one bucket
 * of one conversation) is written over days to weeks, so a read of the newest bucket touches a few
 * windows; each window is compacted once after it closes and never rewritten (write amplification
 * ~1 after the window), and a year of retention is ~52 SSTables.
 */
export const MESSAGES_COMPACTION = `{'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'DAYS', 'compaction_window_size': 7}`;

/**
 * Inbox: short-lived rows (acked within minutes usually; expire by TTL otherwise). One-day windows
 * with a 30-day TTL keep ~30 + gc_grace windows on disk, and a whole window is dropped at once
 * when everything in it has expired.
 */
export const INBOX_COMPACTION = `{'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'DAYS', 'compaction_window_size': 1}`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    statements: [
      `CREATE TABLE IF NOT EXISTS {ks}.storage_settings (
        name text PRIMARY KEY,
        value text)`,

      // The conversation log, bucketed: partition (conversation, bucket) holds seqs
      // bucket*BUCKET_EVENTS+1 … (bucket+1)*BUCKET_EVENTS. Each row is claimed with INSERT … IF NOT EXISTS.
      `CREATE TABLE IF NOT EXISTS {ks}.messages (
        conversation_id text,
        bucket int,
        seq bigint,
        append_id uuid,${EVENT_COLUMNS_DDL},
        PRIMARY KEY ((conversation_id, bucket), seq))
      WITH CLUSTERING ORDER BY (seq ASC)
        AND compaction = ${MESSAGES_COMPACTION}`,

      // A hint of each conversation's highest seq: written without LWT, after the claim, with the
      // seq as write timestamp (so it never goes down); it may lag, it never names a missing seq.
      `CREATE TABLE IF NOT EXISTS {ks}.conversation_heads (
        conversation_id text PRIMARY KEY,
        last_seq bigint)`,

      // Chat-message idempotency: one reservation per (conversation, sender user, sender device,
      // client message id), taken with IF NOT EXISTS before numbering, completed with the seq.
      `CREATE TABLE IF NOT EXISTS {ks}.message_idempotency (
        conversation_id text,
        sender_user_id text,
        sender_device_id text,
        client_message_id text,
        seq bigint,
        owner uuid,
        reserved_at_ms bigint,
        base_seq bigint,
        PRIMARY KEY ((conversation_id, sender_user_id, sender_device_id, client_message_id)))`,

      // Per-device offline queue (fan-out on write), ordered by (conversation, seq).
      `CREATE TABLE IF NOT EXISTS {ks}.inbox (
        user_id text,
        device_id text,
        conversation_id text,
        seq bigint,${EVENT_COLUMNS_DDL},
        PRIMARY KEY ((user_id, device_id), conversation_id, seq))
      WITH CLUSTERING ORDER BY (conversation_id ASC, seq ASC)
        AND compaction = ${INBOX_COMPACTION}
        AND gc_grace_seconds = 86400`,

      // Receipt watermarks; each cell is written with its seq as write timestamp, so the highest wins.
      `CREATE TABLE IF NOT EXISTS {ks}.receipts (
        conversation_id text,
        user_id text,
        device_id text,
        delivered_seq bigint,
        read_seq bigint,
        PRIMARY KEY ((conversation_id), user_id, device_id))`,

      // A group in one partition: its metadata as static columns, one row per membership span.
      `CREATE TABLE IF NOT EXISTS {ks}.groups (
        conversation_id text,
        user_id text,
        from_seq bigint,
        role text,
        to_seq bigint,
        group_name text static,
        created_by text static,
        created_at_ms bigint static,
        PRIMARY KEY ((conversation_id), user_id, from_seq))`,

      `CREATE TABLE IF NOT EXISTS {ks}.user_conversations (
        user_id text,
        conversation_id text,
        PRIMARY KEY ((user_id), conversation_id))`,

      // A user's linked devices; every write goes through a lightweight transaction, and the
      // static version makes "count, then link" atomic (the device limit).
      `CREATE TABLE IF NOT EXISTS {ks}.user_devices (
        user_id text,
        device_id text,
        linked_at_ms bigint,
        push_token text,
        version uuid static,
        PRIMARY KEY ((user_id), device_id))`,

      // Last unlink time per device, written with the unlink time as write timestamp.
      `CREATE TABLE IF NOT EXISTS {ks}.device_unlinks (
        user_id text,
        device_id text,
        unlinked_at_ms bigint,
        PRIMARY KEY ((user_id), device_id))`,
    ],
  },
  {
    version: 2,
    name: 'mls key directory and epochs',
    statements: [
      // Unclaimed single-use KeyPackages of a device; a claim deletes one with DELETE … IF EXISTS.
      `CREATE TABLE IF NOT EXISTS {ks}.key_packages (
        user_id text,
        device_id text,
        kp_id text,
        key_package blob,
        PRIMARY KEY ((user_id, device_id), kp_id))`,

      // Every KeyPackage id a device uploaded (IF NOT EXISTS), so a claimed one is never pooled again.
      `CREATE TABLE IF NOT EXISTS {ks}.key_package_ids (
        user_id text,
        device_id text,
        kp_id text,
        PRIMARY KEY ((user_id, device_id), kp_id))`,

      `CREATE TABLE IF NOT EXISTS {ks}.key_package_last_resort (
        user_id text,
        device_id text,
        kp_id text,
        key_package blob,
        PRIMARY KEY ((user_id, device_id)))`,

      // One row per MLS epoch of a conversation, naming the commit that opened it; newest first.
      `CREATE TABLE IF NOT EXISTS {ks}.mls_epochs (
        conversation_id text,
        epoch bigint,
        user_id text,
        device_id text,
        client_message_id text,
        PRIMARY KEY ((conversation_id), epoch))
      WITH CLUSTERING ORDER BY (epoch DESC)`,
    ],
  },
  {
    version: 3,
    name: 'conversation owners: slot leases and the visible head',
    statements: [
      // The head readers may see, per log partition: rows above it are not yet confirmed by the
      // owner, or were written by a deposed one (docs/storage-cassandra.md, "Numbering by an owner").
      `ALTER TABLE {ks}.messages ADD IF NOT EXISTS head_seq bigint static`,

      // One lease per slot of conversations; changed only by lightweight transactions.
      `CREATE TABLE IF NOT EXISTS {ks}.slot_leases (
        slot int PRIMARY KEY,
        owner text,
        epoch bigint,
        expires_at_ms bigint,
        ceiling_us bigint)`,

      // Gateway nodes alive now: each row is written with a short TTL and renewed.
      `CREATE TABLE IF NOT EXISTS {ks}.gateway_nodes (
        node_id text PRIMARY KEY,
        alive boolean)`,
    ],
  },
];

/** Bookkeeping tables, created before any migration runs. */
export const BOOKKEEPING_STATEMENTS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS {ks}.schema_migrations (
    version int PRIMARY KEY,
    name text,
    checksum text,
    applied_at_ms bigint)`,
  `CREATE TABLE IF NOT EXISTS {ks}.schema_migration_lock (
    id text PRIMARY KEY,
    owner uuid,
    acquired_at_ms bigint)`,
];

export function withKeyspace(statement: string, keyspace: string): string {
  return statement.replaceAll('{ks}', keyspace);
}

/** The bucket (partition) holding `seq`: seqs 1…B are bucket 0, B+1…2B bucket 1, … */
export function bucketOf(seq: Seq, bucketEvents: number): number {
  return Math.floor((seq - 1) / bucketEvents);
}

/** The highest seq of a bucket. */
export function bucketLastSeq(bucket: number, bucketEvents: number): Seq {
  return (bucket + 1) * bucketEvents;
}

/**
 * The port contract suites against the Cassandra adapters on a real local node
 * (`npm run services -- up cassandra`; started here if it is not running), plus what only a real
 * database can show: two processes appending to one conversation, recovery after a crash between
 * the steps of an append, outages reported as STORAGE_UNAVAILABLE, and the migrations.
 *
 * Keyspaces: `chat_test` (default settings) and `chat_test_small_buckets` (4 events per message
 * partition, so every paging and numbering path crosses partition boundaries). They persist
 * between runs; every test uses ids with a per-run nonce (see ports/contracts/support.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import driver from 'cassandra-driver';
import { ensureServices } from '../../../infra/local/services-api.js';
import { ChatError } from '../../core/errors.js';
import type { ConversationEvent, ConversationEventDraft } from '../../core/events.js';
import {
  conversationStoreContract,
  directoryStoreContract,
  groupEpochStoreContract,
  inboxStoreContract,
  incarnationStoreContract,
  keyPackageStoreContract,
  messageStoreContract,
  receiptStoreContract,
} from '../../ports/contracts/index.js';
import { bytesBase64, chatDraft, membershipDraft, range, seqsOf, uniqueGroupId, uniqueHex } from '../../ports/contracts/support.js';
import type { CassandraConfig } from './cassandra-config.js';
import type { IncarnationStore } from '../../ports/incarnation-store.js';
import { CassandraIncarnationStore } from './cassandra-incarnation-store.js';
import { CassandraMessageStore } from './cassandra-message-store.js';
import { createCassandraStores, type CassandraStores } from './cassandra-stores.js';
import { Cql, createDriverClient } from './cql.js';
import { EVENT_COLUMN_LIST, EVENT_PLACEHOLDERS, eventValues } from './event-rows.js';
import { migrate } from './migrations.js';
import { MIGRATIONS, bucketOf, type Migration } from './schema.js';
import { isStorageOutage, toStorageError } from './storage-errors.js';

const SMALL_BUCKET_EVENTS = 4;
let baseConfig: CassandraConfig | undefined;

beforeAll(async () => {
  const env = await ensureServices(['cassandra']);
  baseConfig = {
    contactPoints: env.CASSANDRA_CONTACT_POINTS.split(','),
    localDataCenter: env.CASSANDRA_LOCAL_DC,
    keyspace: 'chat_test',
  };
}, 180_000);

function config(overrides: Partial<CassandraConfig> = {}): CassandraConfig {
  if (!baseConfig) throw new Error('Cassandra is not up (beforeAll failed)');
  return { ...baseConfig, ...overrides };
}

const smallBuckets = (overrides: Partial<CassandraConfig> = {}) =>
  config({ keyspace: 'chat_test_small_buckets', bucketEvents: SMALL_BUCKET_EVENTS, ...overrides });

/** One client per configuration, shared by the suites of this file and closed after them. */
const opened = new Map<string, Promise<CassandraStores>>();
function stores(cfg: CassandraConfig): Promise<CassandraStores> {
  const key = JSON.stringify(cfg);
  let entry = opened.get(key);
  if (!entry) {
    entry = createCassandraStores(cfg);
    opened.set(key, entry);
  }
  return entry;
}

afterAll(async () => {
  await Promise.all([...opened.values()].map(async (s) => (await s).close()));
});

messageStoreContract('CassandraMessageStore', async () => ({ store: (await stores(config())).messages }));
messageStoreContract(`CassandraMessageStore (${SMALL_BUCKET_EVENTS} events per partition)`, async () => ({
  store: (await stores(smallBuckets())).messages,
}));
conversationStoreContract('CassandraConversationStore', async () => ({ store: (await stores(config())).conversations }));
inboxStoreContract('CassandraInboxStore', async () => ({ store: (await stores(config())).inbox }));
receiptStoreContract('CassandraReceiptStore', async () => ({ store: (await stores(config())).receipts }));
directoryStoreContract('CassandraDirectoryStore', async () => ({ store: (await stores(config())).directory }));
keyPackageStoreContract('CassandraKeyPackageStore', async () => ({ store: (await stores(config())).keyPackages }));
groupEpochStoreContract('CassandraGroupEpochStore', async () => ({ store: (await stores(config())).groupEpochs }));
// Each open() names its own storage_settings row (storage with no incarnation yet); reopen() is a
// new store on the same row, alternately through a second driver client: another gateway process.
incarnationStoreContract('CassandraIncarnationStore', async () => {
  const first = await stores(config());
  const second = await createCassandraStores(config(), { migrate: false });
  const rows = new Map<IncarnationStore, string>();
  let turn = 0;
  return {
    open: async () => {
      const row = `log_incarnation_test_${uniqueHex()}`;
      const store = new CassandraIncarnationStore(first.cql, row);
      rows.set(store, row);
      return store;
    },
    reopen: async (store) => new CassandraIncarnationStore((turn++ % 2 === 0 ? second : first).cql, rows.get(store)!),
    cleanup: () => second.close(),
  };
});

describe('CassandraMessageStore across processes', () => {
  // Two factories = two driver clients with their own pools and in-process state: two gateways.
  let a: CassandraStores;
  let b: CassandraStores;
  beforeAll(async () => {
    a = await createCassandraStores(smallBuckets());
    b = await createCassandraStores(smallBuckets(), { migrate: false });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  function drafts(conversationId: string, label: string, n: number): ConversationEventDraft[] {
    return range(1, n).map((i) =>
      i % 10 === 0
        ? membershipDraft(conversationId, { userIds: [`${label}-user${i}`] })
        : chatDraft(conversationId, { senderDeviceId: label, clientMessageId: `${label}-${i}` }),
    );
  }

  it('2 × 100 concurrent appends to one conversation get seqs 1…200, each exactly once', async () => {
    const conversationId = uniqueGroupId();
    const [fromA, fromB] = await Promise.all([
      Promise.all(drafts(conversationId, 'a', 100).map((d) => a.messages.append(d))),
      Promise.all(drafts(conversationId, 'b', 100).map((d) => b.messages.append(d))),
    ]);
    const results = [...fromA, ...fromB];
    expect(results.every((r) => !r.duplicate)).toBe(true);
    expect(results.map((r) => r.event.seq).sort((x, y) => x - y)).toEqual(range(1, 200));
    // Both processes agree on the log, and it holds exactly what the appends returned.
    const bySeq = new Map(results.map((r) => [r.event.seq, r.event]));
    for (const reader of [a.messages, b.messages]) {
      expect(await reader.lastSeq(conversationId)).toBe(200);
      const log = await reader.readAfter(conversationId, 0, 1000);
      expect(seqsOf(log)).toEqual(range(1, 200));
      for (const event of log) expect(event).toEqual(bySeq.get(event.seq));
    }
    // A process that never wrote to it (no cached head) sees the same.
    const fresh = new CassandraMessageStore(new Cql(a.client, a.settings));
    expect(await fresh.lastSeq(conversationId)).toBe(200);
    expect(seqsOf(await fresh.readBefore(conversationId, 201, 7))).toEqual(range(194, 200));
  }, 60_000);

  it('the same chat message sent through both processes at once is stored once', async () => {
    const conversationId = uniqueGroupId();
    const sends = range(1, 15).map((i) => chatDraft(conversationId, { clientMessageId: `racing-${i}`, bodyBase64: bytesBase64(32, i) }));
    const [fromA, fromB] = await Promise.all([
      Promise.all(sends.map((d) => a.messages.append(d))),
      Promise.all(sends.map((d) => b.messages.append({ ...d }))),
    ]);
    for (const [i, first] of fromA.entries()) {
      const second = fromB[i]!;
      expect(second.event).toEqual(first.event);
      expect([first.duplicate, second.duplicate].sort()).toEqual([false, true]);
    }
    expect(await a.messages.lastSeq(conversationId)).toBe(15);
    expect(seqsOf(await b.messages.readAfter(conversationId, 0, 100))).toEqual(range(1, 15));
  }, 60_000);
});

describe('CassandraMessageStore recovery after a crash', () => {
  const LEASE_MS = 300;
  let s: CassandraStores;
  beforeAll(async () => {
    s = await createCassandraStores(smallBuckets({ idempotencyLeaseMs: LEASE_MS }));
  });
  afterAll(async () => {
    await s?.close();
  });

  /** Writes a message row the way a claim does, without the hint and idempotency bookkeeping. */
  async function storeRaw(event: ConversationEvent): Promise<void> {
    await s.client.execute(
      `INSERT INTO ${s.settings.keyspace}.messages (conversation_id, bucket, seq, append_id, ${EVENT_COLUMN_LIST}) VALUES (?, ?, ?, ?, ${EVENT_PLACEHOLDERS})`,
      [event.conversationId, bucketOf(event.seq, SMALL_BUCKET_EVENTS), event.seq, driver.types.Uuid.random(), ...eventValues(event)],
      { prepare: true },
    );
  }

  async function reserveRaw(draft: ReturnType<typeof chatDraft>, baseSeq: number, reservedAtMs: number): Promise<void> {
    await s.client.execute(
      `INSERT INTO ${s.settings.keyspace}.message_idempotency (conversation_id, sender_user_id, sender_device_id, client_message_id, owner, reserved_at_ms, base_seq) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [
        draft.conversationId,
        draft.senderUserId,
        draft.senderDeviceId,
        draft.clientMessageId,
        driver.types.Uuid.random(),
        reservedAtMs,
        baseSeq,
      ],
      { prepare: true },
    );
  }

  it('a log written without head hints (crash before every hint write) is found by probing', async () => {
    const conversationId = uniqueGroupId();
    const events = range(1, 9).map((seq) => ({ ...chatDraft(conversationId, { clientMessageId: `raw-${seq}` }), seq }));
    for (const event of events) await storeRaw(event);
    const fresh = new CassandraMessageStore(new Cql(s.client, s.settings));
    expect(await fresh.lastSeq(conversationId)).toBe(9);
    expect(seqsOf(await fresh.readBefore(conversationId, 100, 3))).toEqual([7, 8, 9]);
    const next = await fresh.append(chatDraft(conversationId, { clientMessageId: 'after-raw' }));
    expect(next).toMatchObject({ duplicate: false, event: { seq: 10 } });
  });

  it('a retry after a crash between numbering and recording the seq returns the stored message', async () => {
    const conversationId = uniqueGroupId();
    for (const seq of range(1, 5)) await s.messages.append(chatDraft(conversationId, { clientMessageId: `before-${seq}` }));
    const draft = chatDraft(conversationId, { clientMessageId: 'crashed' });
    // The crashed process reserved at base 5, numbered the message 6, and died before recording 6.
    await reserveRaw(draft, 5, Date.now() - 10 * LEASE_MS);
    await storeRaw({ ...draft, seq: 6 });
    for (const seq of range(7, 9)) await storeRaw({ ...chatDraft(conversationId, { clientMessageId: `later-${seq}` }), seq });
    const retry = await s.messages.append({ ...draft, serverTimeMs: draft.serverTimeMs + 1000 });
    expect(retry).toEqual({ event: { ...draft, seq: 6 }, duplicate: true });
    // The takeover recorded the seq: the next repeat is answered from the record.
    expect(await s.messages.append(draft)).toEqual({ event: { ...draft, seq: 6 }, duplicate: true });
    expect(await s.messages.lastSeq(conversationId)).toBe(9);
  });

  it('a retry after a crash between reserving and numbering numbers the message once', async () => {
    const conversationId = uniqueGroupId();
    await s.messages.append(chatDraft(conversationId, { clientMessageId: 'first' }));
    const draft = chatDraft(conversationId, { clientMessageId: 'never-numbered' });
    await reserveRaw(draft, 1, Date.now());
    // The reservation is fresh: the retry waits for it, then takes it over when the lease ends.
    const started = Date.now();
    const retry = await s.messages.append(draft);
    expect(Date.now() - started).toBeGreaterThanOrEqual(LEASE_MS - 50);
    expect(retry).toEqual({ event: { ...draft, seq: 2 }, duplicate: false });
    expect(await s.messages.append(draft)).toEqual({ event: { ...draft, seq: 2 }, duplicate: true });
    expect(await s.messages.lastSeq(conversationId)).toBe(2);
  });

  it('a body that is not canonical base64 reads back verbatim', async () => {
    const conversationId = uniqueGroupId();
    const drafts = ['abc', 'YQ', 'YR==', ''].map((bodyBase64, i) => chatDraft(conversationId, { clientMessageId: `b${i}`, bodyBase64 }));
    for (const d of drafts) await s.messages.append(d);
    expect((await s.messages.readAfter(conversationId, 0, 10)).map((e) => (e.kind === 'message' ? e.bodyBase64 : ''))).toEqual([
      'abc',
      'YQ',
      'YR==',
      '',
    ]);
  });
});

describe('Cassandra outages become STORAGE_UNAVAILABLE', () => {
  it('no reachable contact point', async () => {
    const failure = await createCassandraStores(config({ contactPoints: ['127.0.0.1:1'], connectTimeoutMs: 1000 })).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(ChatError);
    expect((failure as ChatError).code).toBe('STORAGE_UNAVAILABLE');
    expect((failure as ChatError).retryable).toBe(true);
  });

  it('a request that times out', async () => {
    const s = await stores(config());
    const conversationId = uniqueGroupId();
    for (const i of range(1, 40))
      await s.messages.append(chatDraft(conversationId, { clientMessageId: `big-${i}`, bodyBase64: bytesBase64(64 * 1024, i) }));
    const impatient = new CassandraMessageStore(new Cql(s.client, { ...s.settings, requestTimeoutMs: 1 }));
    const failure = await impatient.readAfter(conversationId, 0, 40).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ChatError);
    expect((failure as ChatError).code).toBe('STORAGE_UNAVAILABLE');
    expect(seqsOf(await s.messages.readAfter(conversationId, 0, 40))).toEqual(range(1, 40));
  });

  it('server-side timeouts and unavailability are outages; bad requests are bugs', () => {
    const codes = driver.types.responseErrorCodes;
    for (const code of [codes.writeTimeout, codes.readTimeout, codes.unavailableException, codes.overloaded, codes.isBootstrapping]) {
      const mapped = toStorageError(new driver.errors.ResponseError(code, 'x'), 'test');
      expect(mapped).toBeInstanceOf(ChatError);
      expect((mapped as ChatError).code).toBe('STORAGE_UNAVAILABLE');
    }
    expect(isStorageOutage(new driver.errors.NoHostAvailableError({}))).toBe(true);
    expect(isStorageOutage(new driver.errors.OperationTimedOutError('slow'))).toBe(true);
    expect(isStorageOutage(new Error('No connection available'))).toBe(true); // the driver's pool, emptied by timeouts
    expect(isStorageOutage(new Error('a bug'))).toBe(false);
    expect(isStorageOutage(new TypeError('No connection available'))).toBe(false);
    for (const code of [codes.syntaxError, codes.invalid, codes.unauthorized, codes.serverError]) {
      const original = new driver.errors.ResponseError(code, 'bug');
      expect(toStorageError(original, 'test')).toBe(original);
    }
  });
});

describe('Cassandra migrations', () => {
  it('are idempotent: a second run applies nothing and reports the same version', async () => {
    const s = await stores(config());
    const again = await migrate(s.client, s.settings);
    expect(again.applied).toEqual([]);
    expect(again.version).toBeGreaterThanOrEqual(1);
    expect(again.version).toBe(s.migration?.version);
  });

  it('refuse a bucket size different from the one the keyspace was created with', async () => {
    const s = await stores(config());
    await expect(migrate(s.client, { ...s.settings, bucketEvents: s.settings.bucketEvents + 1 })).rejects.toThrow(/bucket_events/);
  });

  it('refuse to run when a released migration was edited', async () => {
    const s = await stores(config());
    const edited = {
      ...MIGRATIONS[0]!,
      statements: [...MIGRATIONS[0]!.statements, 'CREATE TABLE IF NOT EXISTS {ks}.sneaky (id int PRIMARY KEY)'],
    };
    await expect(migrate(s.client, s.settings, [edited])).rejects.toThrow(/must not be edited/);
  });

  it('two processes starting at once apply a pending migration exactly once', async () => {
    // A keyspace of its own, so the probe versions recorded by each run stay out of chat_test.
    const s = await stores(config({ keyspace: 'chat_test_migrations' }));
    const probe: Migration = {
      version: 1_000_000 + Math.floor(Math.random() * 1_000_000_000),
      name: 'probe',
      statements: ['CREATE TABLE IF NOT EXISTS {ks}.migration_probe (id int PRIMARY KEY)'],
    };
    const other = createDriverClient(s.settings);
    try {
      await other.connect();
      const reports = await Promise.all([
        migrate(s.client, s.settings, [...MIGRATIONS, probe]),
        migrate(other, s.settings, [...MIGRATIONS, probe]),
      ]);
      expect(reports.flatMap((r) => r.applied)).toEqual([probe.version]);
      expect((await migrate(other, s.settings, [...MIGRATIONS, probe])).applied).toEqual([]);
    } finally {
      await other.shutdown();
    }
  });
});

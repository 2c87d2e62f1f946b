/**
 * CassandraOwnedLog on a real Cassandra node (docs/storage-cassandra.md, "Numbering by an owner"):
 * the MessageStore contract with one node owning every slot, then what only the real database can
 * show — a takeover with the deposed owner's writes landing late (fenced by write timestamps), a
 * confirmed row whose head raise never landed (adopted by the next owner), a deposed owner's fence
 * landing after the next owner adopted a row, and a head raise lost at the end of a partition.
 *
 * Keyspaces of their own: `chat_test_owned` (default partitions) and `chat_test_owned_small` (4
 * events per partition, so every path crosses partitions). Slot leases live in the keyspace and
 * are shared by the nodes of one keyspace, so the scenarios run one after another, each with its
 * own node ids; leases are short (OwnershipSettings below) so a takeover takes ~2–3 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureServices } from '../../../infra/local/services-api.js';
import type { ChatMessageEvent, ConversationEvent } from '../../core/events.js';
import { KeyedSerializer } from '../../core/keyed-serializer.js';
import { systemClock } from '../node/system-clock.js';
import { LeaseKeeper, type OwnershipSettings } from '../../ownership/lease-keeper.js';
import { isNotOwner } from '../../ports/conversation-owners.js';
import { messageStoreContract } from '../../ports/contracts/index.js';
import { chatDraft, range, seqsOf, uniqueGroupId, uniqueHex } from '../../ports/contracts/support.js';
import type { SlotLease } from '../../ports/lease-store.js';
import { silentLogger } from '../../ports/logger.js';
import type { AppendResult, MessageStore } from '../../ports/message-store.js';
import type { CassandraConfig } from './cassandra-config.js';
import { CassandraLeaseStore } from './cassandra-lease-store.js';
import { CassandraOwnedLog } from './cassandra-owned-log.js';
import { createCassandraStores, type CassandraStores } from './cassandra-stores.js';
import { Cql, type Params } from './cql.js';
import { EVENT_COLUMN_LIST, EVENT_PLACEHOLDERS, eventValues } from './event-rows.js';
import { bucketOf } from './schema.js';
import { ControlledLeaseStore } from '../../ownership/testing/controlled-lease-store.js';

const SMALL_BUCKET_EVENTS = 4;

/** Short leases, so takeovers in these tests take seconds. */
const OWNERSHIP: OwnershipSettings = {
  slotCount: 8,
  leaseMs: 1_500,
  serveMarginMs: 300,
  clockSkewMs: 200,
  tickMs: 100,
  nodeTtlMs: 1_000,
};

let baseConfig: CassandraConfig | undefined;

beforeAll(async () => {
  const env = await ensureServices(['cassandra']);
  baseConfig = {
    contactPoints: env.CASSANDRA_CONTACT_POINTS.split(','),
    localDataCenter: env.CASSANDRA_LOCAL_DC,
    keyspace: 'chat_test_owned',
  };
}, 180_000);

function config(overrides: Partial<CassandraConfig> = {}): CassandraConfig {
  if (!baseConfig) throw new Error('Cassandra is not up (beforeAll failed)');
  return { ...baseConfig, ...overrides };
}

const smallBuckets = () => config({ keyspace: 'chat_test_owned_small', bucketEvents: SMALL_BUCKET_EVENTS });

/** One client (migrated) per configuration, closed after the file. */
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

/** Lets a lease call already past the freeze (a renewal on its way) finish. */
function settleCalls(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 3 * OWNERSHIP.tickMs));
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A gateway node as far as the log is concerned: its keeper (over a freezable lease store) and its log. */
interface OwnerNode {
  id: string;
  keeper: LeaseKeeper;
  log: CassandraOwnedLog;
  leases: ControlledLeaseStore;
}

function ownerNode(s: CassandraStores, label: string, cql: Cql = s.cql): OwnerNode {
  const id = `${label}-${uniqueHex()}`;
  const leases = new ControlledLeaseStore(new CassandraLeaseStore(s.cql));
  const keeper = new LeaseKeeper({ clock: systemClock, log: silentLogger, store: leases, nodeId: id }, OWNERSHIP);
  return { id, keeper, log: new CassandraOwnedLog(cql, keeper), leases };
}

/** A node that only reads (holds no lease): every read goes to the database. */
function reader(s: CassandraStores): CassandraOwnedLog {
  const keeper = new LeaseKeeper(
    { clock: systemClock, log: silentLogger, store: new CassandraLeaseStore(s.cql), nodeId: `reader-${uniqueHex()}` },
    OWNERSHIP,
  );
  return new CassandraOwnedLog(s.cql, keeper);
}

async function stopNode(node: OwnerNode): Promise<void> {
  node.leases.unfreeze();
  await node.keeper.stop();
  await node.log.drain();
}

/**
 * The contract's view of the owned log: one append per conversation at a time (the chat core's
 * serializer does that in production), each answered once its head raise has landed (`drain`):
 * the log acknowledges an append before that, so a read right after it may not show it yet (see
 * the test "an append is acknowledged before readers can see it" below).
 */
function serialized(log: CassandraOwnedLog): MessageStore {
  const serializer = new KeyedSerializer();
  return {
    append: (draft) =>
      serializer.run(draft.conversationId, async () => {
        const result = await log.append(draft);
        await log.drain();
        return result;
      }),
    readAfter: (c, after, limit) => log.readAfter(c, after, limit),
    readBefore: (c, before, limit) => log.readBefore(c, before, limit),
    lastSeq: (c) => log.lastSeq(c),
  };
}

async function ownsEverySlot(node: OwnerNode): Promise<void> {
  await node.keeper.start();
  // Leases left by an earlier run may still be running: wait them out.
  await waitFor(
    `${node.id} to hold every slot`,
    () => node.keeper.heldSlots().length === OWNERSHIP.slotCount,
    OWNERSHIP.leaseMs + OWNERSHIP.nodeTtlMs + 2_000,
  );
}

function contractOn(name: string, cfg: () => CassandraConfig): void {
  messageStoreContract(name, async () => {
    const s = await stores(cfg());
    const node = ownerNode(s, 'contract');
    await ownsEverySlot(node);
    return { store: serialized(node.log), cleanup: () => stopNode(node) };
  });
}

contractOn('CassandraOwnedLog (one node owns every slot, appends serialized per conversation)', () => config());
contractOn(`CassandraOwnedLog (${SMALL_BUCKET_EVENTS} events per partition)`, smallBuckets);

describe('CassandraOwnedLog: what the contract above needs its wrapper for', () => {
  it("an append is acknowledged before readers can see it: until its head raise lands, reads (even the owner's) stop one short of lastSeq", async () => {
    // Hold the head raises back (as a slow network would), then let them go.
    class SlowHeads extends Cql {
      held: Array<() => void> = [];
      override async write(query: string, params: Params, idempotent: boolean): Promise<void> {
        if (/SET head_seq = \?/.test(query) && Number(params[1]) > 0) await new Promise<void>((resolve) => this.held.push(resolve));
        return super.write(query, params, idempotent);
      }
    }
    const s = await stores(config());
    const slow = new SlowHeads(s.client, s.settings);
    const node = ownerNode(s, 'slow', slow);
    try {
      await ownsEverySlot(node);
      const conversationId = uniqueGroupId();
      const first = node.log.append(chatDraft(conversationId, { clientMessageId: 'one' }));
      await waitFor('the head raise of seq 1 to be sent', () => slow.held.length > 0, 5_000);
      expect((await first).event.seq).toBe(1);
      // Acknowledged; the owner's lastSeq says 1, but the row is not visible to any reader yet.
      expect(await node.log.lastSeq(conversationId)).toBe(1);
      expect(await node.log.readAfter(conversationId, 0, 10)).toEqual([]);
      expect(await reader(s).lastSeq(conversationId)).toBe(0);
      for (const release of slow.held.splice(0)) release();
      await node.log.drain();
      expect(seqsOf(await node.log.readAfter(conversationId, 0, 10))).toEqual([1]);
      expect(await reader(s).lastSeq(conversationId)).toBe(1);
    } finally {
      for (const release of slow.held.splice(0)) release();
      await stopNode(node);
    }
  }, 30_000);

  it('concurrent appends to one conversation on its owner are not numbered apart (the caller must serialize)', async () => {
    const s = await stores(config());
    const node = ownerNode(s, 'raw');
    try {
      await ownsEverySlot(node);
      const conversationId = uniqueGroupId();
      await node.log.append(chatDraft(conversationId, { clientMessageId: 'first' }));
      const results = await Promise.allSettled(
        range(1, 5).map((i) => node.log.append(chatDraft(conversationId, { clientMessageId: `c${i}` }))),
      );
      const seqs = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.event.seq] : []));
      // Documents the precondition stated in cassandra-owned-log.ts: every concurrent append
      // takes head + 1 (here, 2) — the MessageStore contract's concurrency cases hold only
      // behind a per-conversation serializer.
      expect(new Set(seqs).size).toBeLessThan(seqs.length);
    } finally {
      await stopNode(node);
    }
  }, 30_000);
});

describe('CassandraOwnedLog: takeover, fencing and adoption on a real node', () => {
  let s: CassandraStores;
  beforeAll(async () => {
    s = await stores(smallBuckets());
  });

  const ks = () => s.settings.keyspace;

  /** Writes a row as an owner would (one statement, explicit timestamp), bypassing the log. */
  async function rawRow(event: ConversationEvent, headSeq: number, timestampUs: number): Promise<void> {
    await s.client.execute(
      `INSERT INTO ${ks()}.messages (conversation_id, bucket, seq, head_seq, ${EVENT_COLUMN_LIST}) VALUES (?, ?, ?, ?, ${EVENT_PLACEHOLDERS}) USING TIMESTAMP ?`,
      [event.conversationId, bucketOf(event.seq, SMALL_BUCKET_EVENTS), event.seq, headSeq, ...eventValues(event), timestampUs],
      { prepare: true },
    );
  }

  async function rawHead(conversationId: string, seq: number, timestampUs: number): Promise<void> {
    await s.client.execute(
      `UPDATE ${ks()}.messages USING TIMESTAMP ? SET head_seq = ? WHERE conversation_id = ? AND bucket = ?`,
      [timestampUs, seq, conversationId, bucketOf(seq, SMALL_BUCKET_EVENTS)],
      {
        prepare: true,
      },
    );
  }

  async function rawFence(conversationId: string, aboveSeq: number, timestampUs: number): Promise<void> {
    await s.client.execute(
      `DELETE FROM ${ks()}.messages USING TIMESTAMP ? WHERE conversation_id = ? AND bucket = ? AND seq > ?`,
      [timestampUs, conversationId, bucketOf(aboveSeq + 1, SMALL_BUCKET_EVENTS), aboveSeq],
      { prepare: true },
    );
  }

  async function leaseRow(slot: number): Promise<SlotLease> {
    const row = (await new CassandraLeaseStore(s.cql).readAll()).find((l) => l.slot === slot);
    if (!row) throw new Error(`slot ${slot} has no lease`);
    return row;
  }

  /** What a node that holds no lease reads: all three reads, checked against each other. */
  async function readsOf(conversationId: string): Promise<ConversationEvent[]> {
    const r = reader(s);
    const last = await r.lastSeq(conversationId);
    const after = await r.readAfter(conversationId, 0, 100);
    const before = await r.readBefore(conversationId, last + 1, 100);
    expect(seqsOf(after)).toEqual(range(1, last));
    expect(before).toEqual(after);
    return after;
  }

  /** Waits until `node` holds the slot of `conversationId` (a takeover: the old lease's end plus the skew). */
  async function holds(node: OwnerNode, conversationId: string): Promise<number> {
    const slot = node.keeper.slotOf(conversationId);
    await waitFor(
      `${node.id} to take slot ${slot}`,
      () => node.keeper.servingLease(slot) !== undefined,
      OWNERSHIP.leaseMs + OWNERSHIP.nodeTtlMs + OWNERSHIP.clockSkewMs + 3_000,
    );
    return slot;
  }

  it('a paused owner’s late row (stamped below the new owner’s floor) is never seen; the new owner numbers seq 6 itself', async () => {
    const a = ownerNode(s, 'a');
    const b = ownerNode(s, 'b');
    try {
      await ownsEverySlot(a);
      const conversationId = uniqueGroupId();
      const slot = a.keeper.slotOf(conversationId);
      const sent = range(1, 5).map((i) => chatDraft(conversationId, { clientMessageId: `a-${i}` }));
      for (const [i, draft] of sent.entries()) expect((await a.log.append(draft)).event.seq).toBe(i + 1);
      await a.log.drain();
      // A's next row, numbered and stamped while it still served, then A pauses (no renewal, no
      // heartbeat) with that write still on its way.
      const aEpoch = a.keeper.servingLease(slot)!.epoch;
      const lateUs = a.keeper.writeTimestamp(slot, aEpoch)!;
      const late: ChatMessageEvent = {
        ...chatDraft(conversationId, { clientMessageId: 'a-late', media: { objectKey: 'm/late', contentType: 'image/png', sizeBytes: 7 } }),
        seq: 6,
      };
      a.leases.freeze();
      await settleCalls();
      const aLease = await leaseRow(slot);
      expect(aLease).toMatchObject({ owner: a.id, epoch: aEpoch });
      expect(lateUs).toBeLessThan(aLease.ceilingUs);

      await b.keeper.start();
      await holds(b, conversationId);
      // Not before A's lease ended plus the skew margin, and above everything A could stamp.
      expect(Date.now()).toBeGreaterThanOrEqual(aLease.expiresAtMs + OWNERSHIP.clockSkewMs);
      const bLease = b.keeper.servingLease(slot)!;
      expect(bLease).toMatchObject({ epoch: aEpoch + 1, floorUs: aLease.ceilingUs });
      // A stopped serving at its margin: it numbers nothing now.
      expect(a.keeper.servingLease(slot)).toBeUndefined();
      expect(a.keeper.writeTimestamp(slot, aEpoch)).toBeUndefined();

      // B opens the conversation (a retry of message 5 reaches it: answered from the log's keys).
      expect(await b.log.append(sent[4]!)).toEqual({ event: { ...sent[4]!, seq: 5 }, duplicate: true });
      // A's late writes land now: its row 6 (with media) and a head raise to 6.
      await rawRow(late, 5, lateUs);
      await rawHead(conversationId, 6, lateUs + 1);
      const afterLate = await readsOf(conversationId);
      expect(seqsOf(afterLate)).toEqual(range(1, 5));
      expect(afterLate.map((e) => (e as ChatMessageEvent).clientMessageId)).toEqual(['a-1', 'a-2', 'a-3', 'a-4', 'a-5']);

      // B numbers seq 6 itself; nothing of A's row shows through (no media column merged in).
      const mine = chatDraft(conversationId, { clientMessageId: 'b-6' });
      expect(await b.log.append(mine)).toEqual({ event: { ...mine, seq: 6 }, duplicate: false });
      await b.log.drain();
      const final = await readsOf(conversationId);
      expect(final).toHaveLength(6);
      expect(final[5]).toEqual({ ...mine, seq: 6 });
      expect(await b.log.lastSeq(conversationId)).toBe(6);

      // A wakes up: it sees the slot taken, drops it, and refuses to append.
      a.leases.unfreeze();
      await a.keeper.refresh();
      await a.keeper.refresh();
      expect(a.keeper.heldSlots()).not.toContain(slot);
      const refused = await a.log.append(chatDraft(conversationId, { clientMessageId: 'a-after' })).catch((e: unknown) => e);
      expect(isNotOwner(refused)).toBe(true);
      expect(a.keeper.route(conversationId)).toEqual({ local: false, nodeId: b.id });
      expect(seqsOf(await readsOf(conversationId))).toEqual(range(1, 6));
    } finally {
      await stopNode(a);
      await stopNode(b);
    }
  }, 60_000);

  it('a row confirmed but never made visible (owner crashed before its head raise) is adopted by the next owner, its key included', async () => {
    const a = ownerNode(s, 'a');
    const b = ownerNode(s, 'b');
    try {
      await ownsEverySlot(a);
      const conversationId = uniqueGroupId();
      const slot = a.keeper.slotOf(conversationId);
      for (const i of range(1, 3)) await a.log.append(chatDraft(conversationId, { clientMessageId: `a-${i}` }));
      await a.log.drain();
      // A stores row 4 (as its append would: head_seq 3 in the row) and crashes before raising it.
      const crashed = chatDraft(conversationId, { clientMessageId: 'confirmed-not-raised' });
      await rawRow({ ...crashed, seq: 4 }, 3, a.keeper.writeTimestamp(slot, a.keeper.servingLease(slot)!.epoch)!);
      a.leases.freeze();
      expect(seqsOf(await readsOf(conversationId))).toEqual([1, 2, 3]);

      await b.keeper.start();
      await holds(b, conversationId);
      // The client retries the message whose answer it never got: B adopts row 4 and knows its key.
      const retry = await b.log.append({ ...crashed, serverTimeMs: crashed.serverTimeMs + 1_000 });
      expect(retry).toEqual({ event: { ...crashed, seq: 4 }, duplicate: true });
      await b.log.drain();
      expect(seqsOf(await readsOf(conversationId))).toEqual([1, 2, 3, 4]);
      expect((await readsOf(conversationId))[3]).toEqual({ ...crashed, seq: 4 });
      const next = await b.log.append(chatDraft(conversationId, { clientMessageId: 'b-5' }));
      expect(next.event.seq).toBe(5);
      await b.log.drain();
      expect(seqsOf(await readsOf(conversationId))).toEqual(range(1, 5));
    } finally {
      await stopNode(a);
      await stopNode(b);
    }
  }, 60_000);

  it('a deposed owner’s fence that lands after the next owner adopted a row does not delete it', async () => {
    // A (epoch e) has row 4 in flight; G takes over (epoch e+1), reads head 3 and sends its fence
    // (seq > 3, stamped above A's ceiling) but stalls before it lands; B takes over from G; A's row
    // 4 lands; B adopts it (readers see it); then G's fence lands. G is played by raw writes.
    const a = ownerNode(s, 'a');
    const b = ownerNode(s, 'b');
    try {
      await ownsEverySlot(a);
      const conversationId = uniqueGroupId();
      const slot = a.keeper.slotOf(conversationId);
      for (const i of range(1, 3)) await a.log.append(chatDraft(conversationId, { clientMessageId: `a-${i}` }));
      await a.log.drain();
      const aEpoch = a.keeper.servingLease(slot)!.epoch;
      const inFlight = { ...chatDraft(conversationId, { clientMessageId: 'a-in-flight' }), seq: 4 };
      const inFlightUs = a.keeper.writeTimestamp(slot, aEpoch)!;
      a.leases.freeze();
      await settleCalls();
      const aLease = await leaseRow(slot);
      await waitFor('A’s lease to end', () => Date.now() >= aLease.expiresAtMs + OWNERSHIP.clockSkewMs, OWNERSHIP.leaseMs + 1_000);
      // G's takeover: its lease ends at once (it stalls), its fence is stamped above A's ceiling.
      const gFenceUs = aLease.ceilingUs + 1_000;
      const gLease = {
        slot,
        owner: `g-${uniqueHex()}`,
        epoch: aEpoch + 1,
        expiresAtMs: Date.now(),
        ceilingUs: aLease.ceilingUs + 1_000_000,
      };
      expect(await new CassandraLeaseStore(s.cql).take(gLease, { epoch: aLease.epoch, expiresAtMs: aLease.expiresAtMs })).toBe(true);

      await b.keeper.start();
      await holds(b, conversationId);
      expect(b.keeper.servingLease(slot)!.floorUs).toBe(gLease.ceilingUs);
      // A's row lands; B opens (a new message), adopting it.
      await rawRow(inFlight, 3, inFlightUs);
      const fifth = chatDraft(conversationId, { clientMessageId: 'b-5' });
      expect((await b.log.append(fifth)).event.seq).toBe(5);
      await b.log.drain();
      expect(seqsOf(await readsOf(conversationId))).toEqual(range(1, 5));
      // G's fence lands late.
      await rawFence(conversationId, 3, gFenceUs);
      await rawHead(conversationId, 3, gFenceUs);
      const seen = await readsOf(conversationId);
      expect(seqsOf(seen)).toEqual(range(1, 5));
      expect(seen[3]).toEqual(inFlight);
      expect(seen[4]).toEqual({ ...fifth, seq: 5 });
    } finally {
      await stopNode(a);
      await stopNode(b);
    }
  }, 60_000);

  it('a head raise lost at the end of a partition does not hide the following ones', async () => {
    // The background raise of seq 4 (the last of partition 0) fails and never lands.
    class LosingCql extends Cql {
      lost = 0;
      override async write(query: string, params: Params, idempotent: boolean): Promise<void> {
        if (this.lost === 0 && /SET head_seq = \?/.test(query) && params[1] === SMALL_BUCKET_EVENTS) {
          this.lost += 1;
          throw new Error('write timed out (test)');
        }
        return super.write(query, params, idempotent);
      }
    }
    const losing = new LosingCql(s.client, s.settings);
    const a = ownerNode(s, 'a', losing);
    try {
      await ownsEverySlot(a);
      const conversationId = uniqueGroupId();
      const results: AppendResult[] = [];
      for (const i of range(1, 7)) results.push(await a.log.append(chatDraft(conversationId, { clientMessageId: `m-${i}` })));
      await a.log.drain();
      expect(losing.lost).toBe(1);
      expect(results.map((r) => r.event.seq)).toEqual(range(1, 7));
      expect(seqsOf(await readsOf(conversationId))).toEqual(range(1, 7));
    } finally {
      await stopNode(a);
    }
  }, 60_000);

  it('opening an empty conversation costs one read and one write; readers find a log of one partition with one read, a longer one through the hint', async () => {
    class CountingCql extends Cql {
      reads: string[] = [];
      writes: string[] = [];
      override async readOne(query: string, params: Params, level?: Parameters<Cql['readOne']>[2]) {
        this.reads.push(query);
        return super.readOne(query, params, level);
      }
      override async write(query: string, params: Params, idempotent: boolean): Promise<void> {
        this.writes.push(query);
        return super.write(query, params, idempotent);
      }
    }
    const counting = new CountingCql(s.client, s.settings);
    const a = ownerNode(s, 'a', counting);
    const countingReader = new CountingCql(s.client, s.settings);
    const r = new CassandraOwnedLog(
      countingReader,
      new LeaseKeeper(
        { clock: systemClock, log: silentLogger, store: new CassandraLeaseStore(s.cql), nodeId: `reader-${uniqueHex()}` },
        OWNERSHIP,
      ),
    );
    try {
      await ownsEverySlot(a);
      const conversationId = uniqueGroupId();
      counting.reads.length = 0;
      counting.writes.length = 0;
      await a.log.append(chatDraft(conversationId, { clientMessageId: 'first' }));
      await a.log.drain();
      // Open: the first partition's highest row (none), the fence (a range tombstone); then the
      // row and its head raise. No hint read or write, no head written at the fence.
      expect(counting.reads).toHaveLength(1);
      expect(counting.writes.filter((q) => /^DELETE/.test(q))).toHaveLength(1);
      expect(counting.writes.filter((q) => /conversation_heads/.test(q))).toEqual([]);
      expect(counting.writes).toHaveLength(3);
      countingReader.reads.length = 0;
      expect(await r.lastSeq(conversationId)).toBe(1);
      expect(countingReader.reads).toHaveLength(1);
      // Three partitions and a bit: the hint (written when each new partition began) sends the
      // walk past the full ones.
      for (const i of range(2, 3 * SMALL_BUCKET_EVENTS + 1)) await a.log.append(chatDraft(conversationId, { clientMessageId: `m-${i}` }));
      await a.log.drain();
      countingReader.reads.length = 0;
      expect(await r.lastSeq(conversationId)).toBe(3 * SMALL_BUCKET_EVENTS + 1);
      // Partition 0 (full), the hint, then the hint's partition (the last).
      expect(countingReader.reads.map((q) => (/conversation_heads/.test(q) ? 'hint' : 'partition'))).toEqual([
        'partition',
        'hint',
        'partition',
      ]);
      expect(seqsOf(await readsOf(conversationId))).toEqual(range(1, 3 * SMALL_BUCKET_EVENTS + 1));
    } finally {
      await stopNode(a);
    }
  }, 60_000);

  it('a log longer than one partition whose hint was lost is still found by walking the partitions', async () => {
    const a = ownerNode(s, 'a');
    try {
      await ownsEverySlot(a);
      const conversationId = uniqueGroupId();
      for (const i of range(1, 2 * SMALL_BUCKET_EVENTS + 2)) await a.log.append(chatDraft(conversationId, { clientMessageId: `m-${i}` }));
      await a.log.drain();
      await s.client.execute(`DELETE FROM ${ks()}.conversation_heads WHERE conversation_id = ?`, [conversationId], { prepare: true });
      expect(await reader(s).lastSeq(conversationId)).toBe(2 * SMALL_BUCKET_EVENTS + 2);
      expect(seqsOf(await readsOf(conversationId))).toEqual(range(1, 2 * SMALL_BUCKET_EVENTS + 2));
    } finally {
      await stopNode(a);
    }
  }, 60_000);

  it('the same chat message appended twice in one process gets one seq (duplicate on the repeat)', async () => {
    const a = ownerNode(s, 'a');
    try {
      await ownsEverySlot(a);
      const conversationId = uniqueGroupId();
      await a.log.append(chatDraft(conversationId, { clientMessageId: 'other' }));
      const draft = chatDraft(conversationId, { clientMessageId: 'twice' });
      const first = await a.log.append(draft);
      const second = await a.log.append({ ...draft, serverTimeMs: draft.serverTimeMs + 5 });
      expect(first).toEqual({ event: { ...draft, seq: 2 }, duplicate: false });
      expect(second).toEqual({ event: { ...draft, seq: 2 }, duplicate: true });
      expect(await a.log.lastSeq(conversationId)).toBe(2);
      await a.log.drain();
      expect(seqsOf(await readsOf(conversationId))).toEqual([1, 2]);
    } finally {
      await stopNode(a);
    }
  }, 30_000);
});

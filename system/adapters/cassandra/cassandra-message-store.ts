/**
 * The conversation log in Cassandra. docs/storage-cassandra.md has the argument in full; in short:
 *
 * - Rows live in partitions (conversation_id, bucket), bucket = floor((seq-1)/bucketEvents).
 * - A writer claims seq s with `INSERT … IF NOT EXISTS` (Paxos) on row s, and only ever tries an s
 *   whose predecessors all exist: it starts after the head hint (which names only stored seqs) and,
 *   when s is taken, continues after the highest stored seq. So no two events share a seq and the
 *   log never has a gap, whatever number of processes append and wherever they crash.
 * - Chat messages are reserved first in `message_idempotency` (`IF NOT EXISTS` on the idempotency
 *   key), so concurrent repeats of one message, in one process or several, number it once. A
 *   reservation left by a crashed process is taken over after a lease; the new owner looks for the
 *   message among the seqs after the reservation's base before numbering it again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatMessageEvent, ConversationEvent, ConversationEventDraft } from '../../core/events.js';
import type { ConversationId, Seq } from '../../core/ids.js';
import { KeyedSerializer } from '../../core/keyed-serializer.js';
import type { AppendResult, MessageStore } from '../../ports/message-store.js';
import { limitParam, newUuid, num, optNum, sameUuid, type Cql, type Level, type Row } from './cql.js';
import { EVENT_COLUMN_LIST, EVENT_PLACEHOLDERS, eventFromRow, eventValues } from './event-rows.js';
import { bucketLastSeq, bucketOf } from './schema.js';
import { isStorageOutage, storageUnavailable } from './storage-errors.js';
import type { types as driverTypes } from 'cassandra-driver';

type ChatDraft = Omit<ChatMessageEvent, 'seq'>;
type IdempotencyKey = [ConversationId, string, string, string];

interface OwnedReservation {
  kind: 'owned';
  owner: driverTypes.Uuid;
  reservedAtMs: number;
  /** Every seq the message may have been stored at is above this one. */
  baseSeq: Seq;
  /** Taken over from another (crashed or stalled) owner, who may have stored the message already. */
  takenOver: boolean;
}

type Reservation = OwnedReservation | { kind: 'stored'; seq: Seq };

/** Outage retries of one LWT (same seq, same append id) before giving up. */
const LWT_OUTAGE_RETRIES = 3;
/** Conversations whose highest known seq is cached in-process. */
const KNOWN_HEADS_MAX = 50_000;

export class CassandraMessageStore implements MessageStore {
  /** Claims of one conversation run one at a time in this process (other processes contend via Paxos). */
  private readonly serializer = new KeyedSerializer();
  /** Chat appends in flight in this process, by idempotency key: repeats join them. */
  private readonly inFlight = new Map<string, Promise<AppendResult>>();
  /** Highest seq known to exist, per conversation (a lower bound: other processes may have gone further). */
  private readonly knownHeads = new Map<ConversationId, Seq>();
  private readonly background = new Set<Promise<void>>();
  private readonly bucketEvents: number;
  private readonly q: ReturnType<typeof messageStatements>;

  constructor(private readonly cql: Cql) {
    this.bucketEvents = cql.settings.bucketEvents;
    this.q = messageStatements(cql);
  }

  async append(draft: ConversationEventDraft): Promise<AppendResult> {
    if (draft.kind !== 'message') {
      const event = await this.serializer.run(draft.conversationId, async () => {
        const start = Math.max(this.knownHead(draft.conversationId), await this.readHead(draft.conversationId)) + 1;
        return this.claim(draft, start, undefined);
      });
      return { event, duplicate: false };
    }
    const key = JSON.stringify(idempotencyKey(draft));
    const running = this.inFlight.get(key);
    if (running) {
      const first = await running.catch(() => undefined);
      if (first) return { event: first.event, duplicate: true };
    }
    const attempt = this.appendChat(draft);
    this.inFlight.set(key, attempt);
    try {
      return await attempt;
    } finally {
      if (this.inFlight.get(key) === attempt) this.inFlight.delete(key);
    }
  }

  async readAfter(conversationId: ConversationId, afterSeq: Seq, limit: number): Promise<ConversationEvent[]> {
    const events: ConversationEvent[] = [];
    let after = Math.max(0, afterSeq);
    while (events.length < limit) {
      const bucket = bucketOf(after + 1, this.bucketEvents);
      const want = limit - events.length;
      const rows = await this.cql.collect(this.q.readAfter, [conversationId, bucket, after, limitParam(want)], want);
      for (const row of rows) events.push(eventFromRow(row));
      if (rows.length === 0) break;
      after = events[events.length - 1]!.seq;
      this.noteHead(conversationId, after);
      // The log has no gaps: it continues in the next bucket only if this one is full.
      if (after !== bucketLastSeq(bucket, this.bucketEvents)) break;
    }
    return events;
  }

  async readBefore(conversationId: ConversationId, beforeSeq: Seq, limit: number): Promise<ConversationEvent[]> {
    if (limit <= 0 || beforeSeq <= 1) return [];
    let top = beforeSeq - 1;
    const known = Math.max(this.knownHead(conversationId), await this.readHead(conversationId));
    // Past the known head's bucket: find the real end first rather than walk empty buckets.
    if (bucketOf(top, this.bucketEvents) > bucketOf(Math.max(known, 1), this.bucketEvents)) {
      top = Math.min(top, await this.highestFrom(conversationId, known));
    }
    const newestFirst: ConversationEvent[] = [];
    let bucket = bucketOf(top, this.bucketEvents);
    let upper = top;
    while (top > 0 && newestFirst.length < limit && bucket >= 0) {
      const want = limit - newestFirst.length;
      const rows = await this.cql.collect(this.q.readBefore, [conversationId, bucket, upper, limitParam(want)], want);
      for (const row of rows) newestFirst.push(eventFromRow(row));
      if (rows.length === want) break;
      bucket -= 1;
      upper = bucketLastSeq(bucket, this.bucketEvents);
    }
    return newestFirst.reverse();
  }

  async lastSeq(conversationId: ConversationId): Promise<Seq> {
    // A seq this process saw stored is as good a start as the hint (the probe finds the real end
    // from any stored seq), and saves a read on the receipt path, which asks on every ack.
    const known = this.knownHead(conversationId);
    if (known === 0) return this.highestFrom(conversationId, await this.readHead(conversationId));
    return this.highestFrom(conversationId, known, { hintAfterBuckets: true });
  }

  /** Waits for the head-hint writes still in flight (call before closing the client). */
  async drain(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  // ---- chat messages: idempotency ----

  private async appendChat(draft: ChatDraft): Promise<AppendResult> {
    const conversationId = draft.conversationId;
    const key = idempotencyKey(draft);
    const { reservation, hint } = await this.reserveWithBase(conversationId, key);
    if (reservation.kind === 'stored') return { event: await this.storedMessage(draft, reservation.seq), duplicate: true };
    if (reservation.takenOver) {
      // The previous owner may have numbered the message before it stopped: look before numbering again.
      const found = await this.findStored(draft, reservation.baseSeq);
      if (found) {
        await this.complete(key, found.seq);
        return { event: found, duplicate: true };
      }
    }
    const event = await this.serializer.run(conversationId, () =>
      this.claim(draft, Math.max(this.knownHead(conversationId), reservation.baseSeq, hint) + 1, reservation),
    );
    // Recording the seq is not on the sender's path: until it lands, a repeat elsewhere waits for it
    // (a reservation without a seq), and if this process dies first, the lease takeover finds the
    // message by scanning after the reservation's base (see docs/storage-cassandra.md).
    this.completeLater(key, event.seq);
    return { event, duplicate: false };
  }

  /**
   * Reserves the idempotency key, with a base seq below every seq the message may be stored at.
   * A process that already knows a stored seq of the conversation uses it as the base and reads
   * the head hint at the same time (one round trip instead of two); otherwise the hint is read
   * first, so a takeover's scan never has to start from the beginning of a long log.
   */
  private async reserveWithBase(conversationId: ConversationId, key: IdempotencyKey): Promise<{ reservation: Reservation; hint: Seq }> {
    const known = this.knownHead(conversationId);
    if (known === 0) {
      const hint = await this.readHead(conversationId);
      return { reservation: await this.reserve(key, hint), hint };
    }
    // The hint only saves a lost claim: during an outage the reservation decides what happens.
    const hintRead = this.readHead(conversationId).catch((error: unknown) => {
      if (isStorageOutage(error)) return 0;
      throw error;
    });
    const [reservation, hint] = await Promise.all([this.reserve(key, known), hintRead]);
    return { reservation, hint };
  }

  private async reserve(key: IdempotencyKey, baseSeq: Seq): Promise<Reservation> {
    const owner = newUuid();
    const reservedAtMs = Date.now();
    let current: Row | undefined;
    for (let outages = 0; ; outages++) {
      try {
        const outcome = await this.cql.lwt(this.q.reserve, [...key, owner, reservedAtMs, baseSeq]);
        if (outcome.applied) return { kind: 'owned', owner, reservedAtMs, baseSeq, takenOver: false };
        current = outcome.row;
        break;
      } catch (error) {
        // Outcome unknown: the same reservation again either applies or finds our own row.
        if (!isStorageOutage(error) || outages >= LWT_OUTAGE_RETRIES) throw error;
        await sleep(backoffMs(outages + 1));
      }
    }
    if (sameUuid(current?.get('owner'), owner) && optNum(current?.get('seq')) === undefined) {
      return { kind: 'owned', owner, reservedAtMs, baseSeq, takenOver: false };
    }
    return this.awaitReservation(key, current);
  }

  /** Another process holds the reservation: wait for its seq, or take the reservation over once its lease ran out. */
  private async awaitReservation(key: IdempotencyKey, row: Row | undefined): Promise<Reservation> {
    const leaseMs = this.cql.settings.idempotencyLeaseMs;
    const deadline = Date.now() + 3 * leaseMs;
    let delayMs = 5;
    for (;;) {
      if (!row) throw new Error(`idempotency reservation ${JSON.stringify(key)} disappeared`);
      const seq = optNum(row.get('seq'));
      if (seq !== undefined) return { kind: 'stored', seq };
      const ageMs = Date.now() - num(row.get('reserved_at_ms'));
      if (ageMs >= leaseMs) {
        const owner = newUuid();
        const reservedAtMs = Date.now();
        const outcome = await this.cql.lwt(this.q.takeOver, [owner, reservedAtMs, ...key, row.get('owner')]);
        if (outcome.applied) return { kind: 'owned', owner, reservedAtMs, baseSeq: num(row.get('base_seq')), takenOver: true };
      } else {
        if (Date.now() > deadline) throw storageUnavailable(`the send of ${key[3]} in ${key[0]} is still in progress elsewhere; retry`);
        await sleep(Math.max(1, Math.min(delayMs, leaseMs - ageMs)));
        delayMs = Math.min(delayMs * 2, 200);
      }
      row = await this.cql.readOne(this.q.readReservation, key, this.cql.settings.serialConsistency);
    }
  }

  private completeLater(key: IdempotencyKey, seq: Seq): void {
    this.inBackground(this.complete(key, seq).catch(() => undefined));
  }

  /** Best effort: the event is stored either way, and a later repeat finds it by scanning (takeover). */
  private async complete(key: IdempotencyKey, seq: Seq): Promise<void> {
    try {
      await this.cql.write(this.q.complete, [seq, ...key], true);
    } catch (error) {
      if (!isStorageOutage(error)) throw error;
    }
  }

  /** The chat message with the draft's idempotency key among the seqs after `baseSeq` (serial reads). */
  private async findStored(draft: ChatDraft, baseSeq: Seq): Promise<ConversationEvent | undefined> {
    const serial = this.cql.settings.serialConsistency;
    let after = baseSeq;
    for (;;) {
      const bucket = bucketOf(after + 1, this.bucketEvents);
      const rows = await this.cql.collect(
        this.q.scanKeys,
        [draft.conversationId, bucket, after, this.bucketEvents],
        this.bucketEvents,
        serial,
      );
      for (const row of rows) {
        if (
          row.get('kind') === 'message' &&
          row.get('sender_user_id') === draft.senderUserId &&
          row.get('sender_device_id') === draft.senderDeviceId &&
          row.get('client_message_id') === draft.clientMessageId
        ) {
          return this.readEvent(draft.conversationId, num(row.get('seq')), serial);
        }
      }
      if (rows.length === 0) return undefined;
      after = num(rows[rows.length - 1]!.get('seq'));
      if (after !== bucketLastSeq(bucket, this.bucketEvents)) return undefined;
    }
  }

  private async storedMessage(draft: ChatDraft, seq: Seq): Promise<ConversationEvent> {
    const event =
      (await this.readEvent(draft.conversationId, seq, this.cql.settings.writeConsistency)) ??
      (await this.readEvent(draft.conversationId, seq, this.cql.settings.serialConsistency));
    if (
      !event ||
      event.kind !== 'message' ||
      event.senderUserId !== draft.senderUserId ||
      event.senderDeviceId !== draft.senderDeviceId ||
      event.clientMessageId !== draft.clientMessageId
    ) {
      throw new Error(
        `idempotency record of ${draft.clientMessageId} in ${draft.conversationId} names seq ${seq}, which holds another event`,
      );
    }
    return event;
  }

  private async readEvent(conversationId: ConversationId, seq: Seq, level: Level): Promise<ConversationEvent | undefined> {
    const row = await this.cql.readOne(this.q.readOne, [conversationId, bucketOf(seq, this.bucketEvents), seq], level);
    return row && eventFromRow(row);
  }

  // ---- numbering ----

  /**
   * Stores the event at the lowest free seq >= start. `start - 1` must be a stored seq (or 0), so
   * every seq tried has all its predecessors stored: the log stays gap-free.
   */
  private async claim(draft: ConversationEventDraft, start: Seq, reservation: OwnedReservation | undefined): Promise<ConversationEvent> {
    const { conversationId } = draft;
    const appendId = newUuid();
    const values = eventValues(draft);
    let seq = start;
    let outages = 0;
    let lostInARow = 0;
    for (let attempt = 1; attempt <= this.cql.settings.claimAttemptsMax; attempt++) {
      if (reservation) this.checkLease(reservation, draft);
      let outcome;
      try {
        outcome = await this.cql.lwt(this.q.claim, [conversationId, bucketOf(seq, this.bucketEvents), seq, appendId, ...values]);
      } catch (error) {
        // Unknown outcome: retry the same seq with the same append id. That Paxos round first
        // settles the lost one, so we then either apply or find our own row; we never move on
        // while our event might still land at this seq.
        if (!isStorageOutage(error) || ++outages > LWT_OUTAGE_RETRIES) throw error;
        await sleep(backoffMs(outages));
        continue;
      }
      if (outcome.applied || sameUuid(outcome.row?.get('append_id'), appendId)) {
        this.noteHead(conversationId, seq);
        this.writeHeadLater(conversationId, seq);
        return { ...draft, seq } as ConversationEvent;
      }
      // Another writer stored seq, so seq + 1 has every predecessor stored. With one competitor
      // (the usual race: both ends of a chat answering at once) it is free: try it without a read.
      // Lost again: others are further ahead; go on after the highest stored seq.
      this.noteHead(conversationId, seq);
      seq = ++lostInARow === 1 ? seq + 1 : (await this.highestFrom(conversationId, seq)) + 1;
    }
    throw storageUnavailable(
      `could not claim a sequence number in ${conversationId} after ${this.cql.settings.claimAttemptsMax} attempts (too many concurrent writers); retry`,
    );
  }

  private checkLease(reservation: OwnedReservation, draft: ChatDraft | ConversationEventDraft): void {
    // Stop well before another process may take the reservation over (clocks differ a little).
    const leaseMs = this.cql.settings.idempotencyLeaseMs;
    if (Date.now() - reservation.reservedAtMs > leaseMs * 0.75) {
      throw storageUnavailable(
        `the send of ${draft.kind === 'message' ? draft.clientMessageId : 'an event'} in ${draft.conversationId} took longer than its reservation; retry`,
      );
    }
  }

  /**
   * The highest stored seq, given that `known` is stored (or 0): probes forward bucket by bucket.
   * `hintAfterBuckets`: once a bucket turns out full, jump ahead to the head hint if it is further
   * (for a `known` that may be old, e.g. this process's cache).
   */
  private async highestFrom(conversationId: ConversationId, known: Seq, options: { hintAfterBuckets?: boolean } = {}): Promise<Seq> {
    let last = known;
    let hintRead = !options.hintAfterBuckets;
    for (;;) {
      const bucket = bucketOf(last + 1, this.bucketEvents);
      const row = await this.cql.readOne(this.q.highestAfter, [conversationId, bucket, last]);
      if (!row) break;
      last = num(row.get('seq'));
      if (last !== bucketLastSeq(bucket, this.bucketEvents)) break;
      if (!hintRead) {
        hintRead = true;
        last = Math.max(last, await this.readHead(conversationId));
      }
    }
    this.noteHead(conversationId, last);
    return last;
  }

  private async readHead(conversationId: ConversationId): Promise<Seq> {
    const row = await this.cql.readOne(this.q.readHead, [conversationId]);
    return optNum(row?.get('last_seq')) ?? 0;
  }

  /** The hint is only an optimization: its write runs in the background and may fail. */
  private writeHeadLater(conversationId: ConversationId, seq: Seq): void {
    this.inBackground(this.cql.write(this.q.writeHead, [seq, seq, conversationId], true).catch(() => undefined));
  }

  /** Tracks a write nobody waits for, so `drain` (before closing the client) can. */
  private inBackground(write: Promise<void>): void {
    const tracked = write.finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  private knownHead(conversationId: ConversationId): Seq {
    return this.knownHeads.get(conversationId) ?? 0;
  }

  private noteHead(conversationId: ConversationId, seq: Seq): void {
    const previous = this.knownHeads.get(conversationId);
    if (previous !== undefined && previous >= seq) return;
    this.knownHeads.delete(conversationId);
    this.knownHeads.set(conversationId, seq);
    if (this.knownHeads.size > KNOWN_HEADS_MAX) this.knownHeads.delete(this.knownHeads.keys().next().value!);
  }
}

function messageStatements(cql: Cql) {
  const messages = cql.table('messages');
  const heads = cql.table('conversation_heads');
  const idempotency = cql.table('message_idempotency');
  const eventColumns = `conversation_id, seq, ${EVENT_COLUMN_LIST}`;
  const idemKey = 'conversation_id = ? AND sender_user_id = ? AND sender_device_id = ? AND client_message_id = ?';
  return {
    claim: `INSERT INTO ${messages} (conversation_id, bucket, seq, append_id, ${EVENT_COLUMN_LIST}) VALUES (?, ?, ?, ?, ${EVENT_PLACEHOLDERS}) IF NOT EXISTS`,
    readAfter: `SELECT ${eventColumns} FROM ${messages} WHERE conversation_id = ? AND bucket = ? AND seq > ? LIMIT ?`,
    readBefore: `SELECT ${eventColumns} FROM ${messages} WHERE conversation_id = ? AND bucket = ? AND seq <= ? ORDER BY seq DESC LIMIT ?`,
    readOne: `SELECT ${eventColumns} FROM ${messages} WHERE conversation_id = ? AND bucket = ? AND seq = ?`,
    highestAfter: `SELECT seq FROM ${messages} WHERE conversation_id = ? AND bucket = ? AND seq > ? ORDER BY seq DESC LIMIT 1`,
    scanKeys: `SELECT seq, kind, sender_user_id, sender_device_id, client_message_id FROM ${messages} WHERE conversation_id = ? AND bucket = ? AND seq > ? LIMIT ?`,
    readHead: `SELECT last_seq FROM ${heads} WHERE conversation_id = ?`,
    // The seq is the write timestamp: concurrent hint writes keep the highest, never a lower one.
    writeHead: `UPDATE ${heads} USING TIMESTAMP ? SET last_seq = ? WHERE conversation_id = ?`,
    reserve: `INSERT INTO ${idempotency} (conversation_id, sender_user_id, sender_device_id, client_message_id, owner, reserved_at_ms, base_seq) VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
    readReservation: `SELECT seq, owner, reserved_at_ms, base_seq FROM ${idempotency} WHERE ${idemKey}`,
    takeOver: `UPDATE ${idempotency} SET owner = ?, reserved_at_ms = ? WHERE ${idemKey} IF owner = ? AND seq = null`,
    complete: `UPDATE ${idempotency} SET seq = ? WHERE ${idemKey}`,
  };
}

function idempotencyKey(draft: ChatDraft): IdempotencyKey {
  return [draft.conversationId, draft.senderUserId, draft.senderDeviceId, draft.clientMessageId];
}

function backoffMs(attempt: number): number {
  return Math.min(20 * 2 ** attempt, 500);
}

/**
 * The conversation log in Cassandra, numbered by the conversation's owner (docs/storage-cassandra.md,
 * "Numbering by an owner"). In short:
 *
 * - Only the node holding the conversation's slot lease appends; it numbers in memory (head + 1)
 *   and writes the row with one plain write, stamped with a Cassandra write timestamp its lease
 *   allows. No Paxos round and no read on the normal path.
 * - Readers see a partition's rows up to its static `head_seq`, which the owner raises after the
 *   row is confirmed; a row written but not confirmed (or written by a deposed owner) stays
 *   invisible.
 * - When a node opens a conversation under a new lease (or after a write whose outcome is
 *   unknown), it reads the stored head once, adopts the rows found, and fences: a range tombstone
 *   above that head, stamped above every timestamp the previous lease allowed, deletes anything a
 *   deposed owner may still write there. Then it loads the recent idempotency keys from the log.
 * - Idempotency: a retry is recognised from the owner's memory (every message it numbered, and
 *   the last `idempotencyWindowEvents` of the log loaded on open).
 */
import type { ChatMessageEvent, ConversationEvent, ConversationEventDraft } from '../../core/events.js';
import type { ConversationId, Seq } from '../../core/ids.js';
import { NotOwnerError } from '../../ports/conversation-owners.js';
import type { AppendResult, MessageStore } from '../../ports/message-store.js';
import type { LeaseKeeper } from '../../ownership/lease-keeper.js';
import { limitParam, num, optNum, type Cql, type Level, type Row } from './cql.js';
import { EVENT_COLUMN_LIST, EVENT_PLACEHOLDERS, eventFromRow, eventValues } from './event-rows.js';
import { bucketLastSeq, bucketOf } from './schema.js';

export interface OwnedLogSettings {
  /** Idempotency keys loaded from the log's tail when a conversation is opened. */
  idempotencyWindowEvents: number;
  /** Keys kept per open conversation (oldest dropped first). */
  keysPerConversationMax: number;
  /** Open conversations kept in memory (least recently used closed first; reopening costs a fence). */
  openConversationsMax: number;
  /**
   * Idempotency keys held over all open conversations (~100 bytes each): past it the least recently
   * used conversations are closed, so memory stays bounded however many conversations are busy.
   */
  keysHeldMax: number;
}

export const DEFAULT_OWNED_LOG: OwnedLogSettings = {
  idempotencyWindowEvents: 1_000,
  keysPerConversationMax: 10_000,
  openConversationsMax: 100_000,
  keysHeldMax: 1_000_000,
};

/** What the owner holds in memory for one conversation it has opened. */
interface OpenConversation {
  slot: number;
  /** The lease epoch it was opened (fenced) under. */
  epoch: number;
  /** The highest stored seq; every seq up to it is in the log. */
  head: Seq;
  /** Idempotency key → seq of chat messages. */
  keys: Map<string, Seq>;
  /** A write's outcome is unknown: reopen (read the head, fence) before the next append. */
  uncertain: boolean;
}

export class CassandraOwnedLog implements MessageStore {
  private readonly open = new Map<ConversationId, OpenConversation>();
  private readonly opening = new Map<ConversationId, Promise<OpenConversation>>();
  private readonly background = new Set<Promise<void>>();
  private keysHeld = 0;
  private readonly bucketEvents: number;
  private readonly q: ReturnType<typeof ownedLogStatements>;

  constructor(
    private readonly cql: Cql,
    private readonly keeper: LeaseKeeper,
    private readonly settings: OwnedLogSettings = DEFAULT_OWNED_LOG,
  ) {
    this.bucketEvents = cql.settings.bucketEvents;
    this.q = ownedLogStatements(cql);
    keeper.onLost((slot) => {
      for (const [conversationId, state] of this.open) if (state.slot === slot) this.close(conversationId);
    });
  }

  /**
   * Appends as the conversation's owner. The caller (the chat core) runs one append per
   * conversation at a time, so a conversation never has two rows in flight.
   */
  async append(draft: ConversationEventDraft): Promise<AppendResult> {
    const conversationId = draft.conversationId;
    const state = await this.opened(conversationId);
    if (draft.kind === 'message') {
      const seq = state.keys.get(keyOf(draft));
      if (seq !== undefined) return { event: await this.readStored(conversationId, seq), duplicate: true };
    }
    const seq = state.head + 1;
    if (seq > 1 && bucketOf(seq, this.bucketEvents) !== bucketOf(seq - 1, this.bucketEvents)) {
      // Readers go on to the next partition only from a full one, and nothing written later
      // touches this one's head again: its raise to its last seq must be stored before any row
      // of the next partition exists (a lost background raise would hide it for good).
      await this.cql.write(
        this.q.raiseHead,
        [this.timestampFor(state, conversationId), seq - 1, conversationId, bucketOf(seq - 1, this.bucketEvents)],
        true,
      );
    }
    const timestampUs = this.timestampFor(state, conversationId);
    const event = { ...draft, seq } as ConversationEvent;
    try {
      // The row carries the partition's head as it stands (seq - 1): in a new bucket this makes
      // the row invisible until raised, elsewhere it rewrites the current value.
      await this.cql.write(
        this.q.insertRow,
        [conversationId, bucketOf(seq, this.bucketEvents), seq, state.head, ...eventValues(event), timestampUs],
        true,
      );
    } catch (error) {
      state.uncertain = true;
      throw error;
    }
    // Stored; but only a lease still valid now lets us say so (a takeover may have fenced it).
    if (this.keeper.servingLease(state.slot)?.epoch !== state.epoch) {
      state.uncertain = true;
      throw new NotOwnerError(conversationId, 'lease ended while the event was being stored');
    }
    state.head = seq;
    if (event.kind === 'message') this.remember(conversationId, state, keyOf(event), seq);
    this.inBackground(this.raiseHead(state, conversationId, seq));
    // The hint only spares a probe its walk through full partitions; the first partition needs none.
    if (seq > 1 && bucketOf(seq, this.bucketEvents) !== bucketOf(seq - 1, this.bucketEvents))
      this.inBackground(this.writeHint(conversationId, seq));
    return { event, duplicate: false };
  }

  async readAfter(conversationId: ConversationId, afterSeq: Seq, limit: number): Promise<ConversationEvent[]> {
    const events: ConversationEvent[] = [];
    let after = Math.max(0, afterSeq);
    while (events.length < limit) {
      const bucket = bucketOf(after + 1, this.bucketEvents);
      const want = limit - events.length;
      const rows = await this.cql.collect(this.q.readAfter, [conversationId, bucket, after, limitParam(want)], want);
      let hidden = false;
      for (const row of rows) {
        if (!isVisible(row)) {
          hidden = true;
          break;
        }
        events.push(eventFromRow(row));
      }
      if (events.length === 0 || events[events.length - 1]!.seq === after) break;
      after = events[events.length - 1]!.seq;
      // The visible log has no gaps: it continues in the next bucket only if this one is full.
      if (hidden || after !== bucketLastSeq(bucket, this.bucketEvents)) break;
    }
    return events;
  }

  async readBefore(conversationId: ConversationId, beforeSeq: Seq, limit: number): Promise<ConversationEvent[]> {
    if (limit <= 0 || beforeSeq <= 1) return [];
    let upper = Math.min(beforeSeq - 1, await this.lastSeq(conversationId));
    const newestFirst: ConversationEvent[] = [];
    while (upper > 0 && newestFirst.length < limit) {
      const bucket = bucketOf(upper, this.bucketEvents);
      const want = limit - newestFirst.length;
      const rows = await this.cql.collect(this.q.readBefore, [conversationId, bucket, upper, limitParam(want)], want);
      for (const row of rows) newestFirst.push(eventFromRow(row));
      if (rows.length === want || bucket === 0) break;
      upper = bucketLastSeq(bucket - 1, this.bucketEvents);
    }
    return newestFirst.reverse();
  }

  /** The highest seq readers may see. The owner answers from memory. */
  async lastSeq(conversationId: ConversationId): Promise<Seq> {
    const state = this.open.get(conversationId);
    if (state && !state.uncertain && this.keeper.servingLease(state.slot)?.epoch === state.epoch) return state.head;
    return (await this.probeHeads(conversationId)).visible;
  }

  /** Waits for the head raises and hints still in flight (call before closing the client). */
  async drain(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  // ---- opening a conversation: adopt, fence, load keys ----

  private async opened(conversationId: ConversationId): Promise<OpenConversation> {
    const slot = this.keeper.slotOf(conversationId);
    const lease = this.keeper.servingLease(slot);
    if (!lease) throw new NotOwnerError(conversationId, 'this node holds no lease on its slot');
    const state = this.open.get(conversationId);
    if (state && state.epoch === lease.epoch && !state.uncertain) {
      // Most recently used last, so the oldest entry is the first to close.
      this.open.delete(conversationId);
      this.open.set(conversationId, state);
      return state;
    }
    let pending = this.opening.get(conversationId);
    if (!pending) {
      pending = this.openNow(conversationId, slot, lease.epoch).finally(() => this.opening.delete(conversationId));
      this.opening.set(conversationId, pending);
    }
    return pending;
  }

  private async openNow(conversationId: ConversationId, slot: number, epoch: number): Promise<OpenConversation> {
    this.close(conversationId);
    // At the write consistency, like every read on this path: a row confirmed by a quorum must be
    // found (a read at ONE may miss it, and the fence would then delete an acknowledged message).
    const quorum = this.cql.settings.writeConsistency;
    const { stored, visible } = await this.probeHeads(conversationId, quorum);
    // Rows above the visible head were never shown to readers (some may have been acknowledged
    // before their head raise landed): adopt them, rewritten under this lease. A fence sent by a
    // deposed owner that opened before them may still land, and it is newer than their original
    // timestamp: only a rewrite above every previous ceiling keeps them. The adopted rows end at
    // the first missing seq (one such fence landed already).
    const base = Math.min(stored, visible);
    const adopted = stored > base ? await this.storedRows(conversationId, base, stored) : [];
    const head = base + adopted.length;
    if (adopted.length > 0) {
      // Stored before any head write can make them visible (head unset here), and while the
      // lease lasts (the fence timestamp below checks it again): the next owner then finds them.
      const rewriteUs = this.keeper.writeTimestamp(slot, epoch);
      if (rewriteUs === undefined) throw new NotOwnerError(conversationId, 'lease ended while opening');
      await Promise.all(
        adopted.map((event) =>
          this.cql.write(
            this.q.insertRow,
            [conversationId, bucketOf(event.seq, this.bucketEvents), event.seq, undefined, ...eventValues(event), rewriteUs],
            true,
          ),
        ),
      );
    }
    const fenceUs = this.keeper.writeTimestamp(slot, epoch);
    if (fenceUs === undefined) throw new NotOwnerError(conversationId, 'lease ended while opening');
    const bucket = bucketOf(head + 1, this.bucketEvents);
    // Every row above the head that a deposed owner (or our own unconfirmed write) may still
    // land is stamped below fenceUs: the range tombstone deletes it whenever it arrives. The
    // head write makes the rows found (adopted) visible.
    const fence = [{ query: this.q.fenceRows, params: [fenceUs, conversationId, bucket, head] }];
    // An empty log needs no head written here: every row a deposed owner may still land is under
    // the tombstone, and our first row carries the head (0) itself. A log with rows needs the
    // head at fenceUs, above any raise a deposed owner may still land.
    if (head > 0) fence.push({ query: this.q.raiseHead, params: [fenceUs, head, conversationId, bucket] });
    // The partitions holding the head and the adopted rows show them all.
    const shown = new Set([bucketOf(head, this.bucketEvents), ...adopted.map((event) => bucketOf(event.seq, this.bucketEvents))]);
    for (const b of shown)
      if (head > 0 && b !== bucket) fence.push({ query: this.q.raiseHead, params: [fenceUs, head, conversationId, b] });
    const [keys] = await Promise.all([
      this.loadKeys(conversationId, head),
      Promise.all(fence.map((s) => this.cql.write(s.query, s.params, true))),
    ]);
    const state: OpenConversation = { slot, epoch, head, keys, uncertain: false };
    this.close(conversationId);
    this.open.set(conversationId, state);
    this.keysHeld += keys.size;
    this.closeLeastRecentlyUsed();
    return state;
  }

  private close(conversationId: ConversationId): void {
    const state = this.open.get(conversationId);
    if (!state) return;
    this.open.delete(conversationId);
    this.keysHeld -= state.keys.size;
  }

  /** Closes the least recently used conversations (the Map's first entries) until both bounds hold. */
  private closeLeastRecentlyUsed(): void {
    while (this.open.size > this.settings.openConversationsMax || (this.keysHeld > this.settings.keysHeldMax && this.open.size > 1)) {
      const oldest = this.open.keys().next().value;
      if (oldest === undefined) return;
      this.close(oldest);
    }
  }

  private remember(conversationId: ConversationId, state: OpenConversation, key: string, seq: Seq): void {
    // Closed while this append ran (memory bounds): the next append reopens it from the log.
    if (this.open.get(conversationId) !== state) return;
    if (!state.keys.has(key)) this.keysHeld += 1;
    state.keys.set(key, seq);
    if (state.keys.size > this.settings.keysPerConversationMax) {
      const oldest = state.keys.keys().next().value;
      if (oldest !== undefined && state.keys.delete(oldest)) this.keysHeld -= 1;
    }
    this.closeLeastRecentlyUsed();
  }

  /** Conversations open and idempotency keys held (diagnostics, tests). */
  get memory(): { openConversations: number; keysHeld: number } {
    return { openConversations: this.open.size, keysHeld: this.keysHeld };
  }

  /** The stored rows after `afterSeq` up to `upToSeq`, visible or not, ascending, ending at the first missing seq. */
  private async storedRows(conversationId: ConversationId, afterSeq: Seq, upToSeq: Seq): Promise<ConversationEvent[]> {
    const events: ConversationEvent[] = [];
    let after = afterSeq;
    while (after < upToSeq) {
      const bucket = bucketOf(after + 1, this.bucketEvents);
      const want = upToSeq - after;
      const rows = await this.cql.collect(
        this.q.readAfter,
        [conversationId, bucket, after, limitParam(want)],
        want,
        this.cql.settings.writeConsistency,
      );
      for (const row of rows) {
        const event = eventFromRow(row);
        if (event.seq !== after + 1 || event.seq > upToSeq) return events;
        events.push(event);
        after = event.seq;
      }
      if (after !== bucketLastSeq(bucket, this.bucketEvents)) break;
    }
    return events;
  }

  /**
   * The heads of the log in one walk: `stored` counts every row present (an owner opening adopts
   * them all), `visible` stops at each partition's head. Starts at the first partition, which is
   * all most conversations ever fill (one read), and asks the hint where to go on only when that
   * one is full: the partitions between are full and visible (a partition's head is raised to its
   * last seq before the next one gets a row), so the walk jumps to the hint's and goes forward.
   */
  private async probeHeads(
    conversationId: ConversationId,
    level: Level = this.cql.settings.readConsistency,
  ): Promise<{ stored: Seq; visible: Seq }> {
    let bucket = 0;
    let hintRead = false;
    let visible: Seq | undefined;
    for (;;) {
      const row = await this.cql.readOne(this.q.highest, [conversationId, bucket], level);
      const floor = bucket * this.bucketEvents;
      if (!row) return { stored: floor, visible: visible ?? floor };
      const highest = num(row.get('seq'));
      const shown = Math.min(highest, optNum(row.get('head_seq')) ?? highest);
      const last = bucketLastSeq(bucket, this.bucketEvents);
      if (visible === undefined && shown !== last) visible = Math.max(shown, floor);
      if (highest !== last) return { stored: Math.max(highest, floor), visible: visible! };
      bucket += 1;
      if (!hintRead && visible === undefined) {
        hintRead = true;
        const hint = num((await this.cql.readOne(this.q.readHint, [conversationId], level))?.get('last_seq'));
        bucket = Math.max(bucket, hint > 0 ? bucketOf(hint, this.bucketEvents) : 0);
      }
    }
  }

  private async loadKeys(conversationId: ConversationId, head: Seq): Promise<Map<string, Seq>> {
    const keys = new Map<string, Seq>();
    let after = Math.max(0, head - this.settings.idempotencyWindowEvents);
    while (after < head) {
      const bucket = bucketOf(after + 1, this.bucketEvents);
      const want = head - after;
      const rows = await this.cql.collect(
        this.q.scanKeys,
        [conversationId, bucket, after, limitParam(want)],
        want,
        this.cql.settings.writeConsistency,
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        const seq = num(row.get('seq'));
        if (seq > head) break;
        if (row.get('kind') === 'message') {
          keys.set(JSON.stringify([row.get('sender_user_id'), row.get('sender_device_id'), row.get('client_message_id')]), seq);
        }
        after = seq;
      }
      if (after !== bucketLastSeq(bucket, this.bucketEvents)) break;
    }
    return keys;
  }

  // ---- writes behind the append ----

  private timestampFor(state: OpenConversation, conversationId: ConversationId): number {
    const timestampUs = this.keeper.writeTimestamp(state.slot, state.epoch);
    if (timestampUs === undefined) throw new NotOwnerError(conversationId, 'lease ended');
    return timestampUs;
  }

  /** Makes `seq` visible to readers; skipped once the lease is gone (the next owner adopts it). */
  private async raiseHead(state: OpenConversation, conversationId: ConversationId, seq: Seq): Promise<void> {
    const timestampUs = this.keeper.writeTimestamp(state.slot, state.epoch);
    if (timestampUs === undefined) return;
    await this.cql.write(this.q.raiseHead, [timestampUs, seq, conversationId, bucketOf(seq, this.bucketEvents)], true);
  }

  /** Where a probe starts: a seq known to be stored. The seq is the write timestamp, so hints only rise. */
  private writeHint(conversationId: ConversationId, seq: Seq): Promise<void> {
    return this.cql.write(this.q.writeHint, [seq, seq, conversationId], true);
  }

  private inBackground(work: Promise<void>): void {
    // A lost head raise or hint only delays readers or a probe; the next write or open repairs it.
    const tracked = work.catch(() => undefined).finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  private async readStored(conversationId: ConversationId, seq: Seq): Promise<ConversationEvent> {
    const row = await this.cql.readOne(
      this.q.readOne,
      [conversationId, bucketOf(seq, this.bucketEvents), seq],
      this.cql.settings.writeConsistency,
    );
    if (!row) throw new Error(`seq ${seq} of ${conversationId} is missing from the log`);
    return eventFromRow(row);
  }
}

/** Within a partition, rows up to its head are visible; a partition without a head predates owners (all visible). */
function isVisible(row: Row): boolean {
  const head = optNum(row.get('head_seq'));
  return head === undefined || num(row.get('seq')) <= head;
}

function keyOf(message: Pick<ChatMessageEvent, 'senderUserId' | 'senderDeviceId' | 'clientMessageId'>): string {
  return JSON.stringify([message.senderUserId, message.senderDeviceId, message.clientMessageId]);
}

function ownedLogStatements(cql: Cql) {
  const messages = cql.table('messages');
  const heads = cql.table('conversation_heads');
  const eventColumns = `conversation_id, seq, ${EVENT_COLUMN_LIST}`;
  return {
    insertRow: `INSERT INTO ${messages} (conversation_id, bucket, seq, head_seq, ${EVENT_COLUMN_LIST}) VALUES (?, ?, ?, ?, ${EVENT_PLACEHOLDERS}) USING TIMESTAMP ?`,
    raiseHead: `UPDATE ${messages} USING TIMESTAMP ? SET head_seq = ? WHERE conversation_id = ? AND bucket = ?`,
    fenceRows: `DELETE FROM ${messages} USING TIMESTAMP ? WHERE conversation_id = ? AND bucket = ? AND seq > ?`,
    readAfter: `SELECT ${eventColumns}, head_seq FROM ${messages} WHERE conversation_id = ? AND bucket = ? AND seq > ? LIMIT ?`,
    readBefore: `SELECT ${eventColumns} FROM ${messages} WHERE conversation_id = ? AND bucket = ? AND seq <= ? ORDER BY seq DESC LIMIT ?`,
    readOne: `SELECT ${eventColumns} FROM ${messages} WHERE conversation_id = ? AND bucket = ? AND seq = ?`,
    highest: `SELECT seq, head_seq FROM ${messages} WHERE conversation_id = ? AND bucket = ? ORDER BY seq DESC LIMIT 1`,
    scanKeys: `SELECT seq, kind, sender_user_id, sender_device_id, client_message_id FROM ${messages} WHERE conversation_id = ? AND bucket = ? AND seq > ? LIMIT ?`,
    readHint: `SELECT last_seq FROM ${heads} WHERE conversation_id = ?`,
    writeHint: `UPDATE ${heads} USING TIMESTAMP ? SET last_seq = ? WHERE conversation_id = ?`,
  };
}

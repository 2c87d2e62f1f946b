import { ChatError } from '../core/errors.js';
import type { ReceiptState } from '../core/events.js';
import { deviceKey, type ConversationId, type Seq, type UserId } from '../core/ids.js';
import { KeyedSerializer } from '../core/keyed-serializer.js';
import type { Watermarks } from '../ports/receipt-store.js';
import type { Caller } from './caller.js';
import type { CoreDeps } from './deps.js';
import type { DeviceRoutes } from './device-routes.js';
import type { Membership } from './membership.js';

/** Longest run of events scanned to find whom a receipt concerns; older senders learn by `receipts`. */
const RECEIPT_SCAN_EVENTS_MAX = 2_000;
/**
 * Watermarks this process remembers having written, one per (conversation, device, state): about
 * 200 B each, so some 40 MB at most. Forgetting one costs a blind write for the next ack, no more.
 */
const REMEMBERED_WATERMARKS_MAX = 200_000;

/**
 * Whom a rise of one watermark concerns, as the caller's connection knows it from the events it
 * pushed: every user other than the caller with a message in (afterSeq, seq].
 */
export interface KnownSenders {
  senders: ReadonlySet<UserId>;
  afterSeq: Seq;
  /**
   * No sender of a message at or below afterSeq is still owed this receipt: the watermark was
   * raised that far on this connection, or (for "delivered") the device had acknowledged all it
   * was due there before the connection pushed anything (the inbox holds what is unacknowledged and
   * is drained first). When false, the senders are complete only if this process itself wrote the
   * watermark up to afterSeq; if it did not, the log is read as for any other ack.
   */
  earlierSettled: boolean;
}

/** The senders of an ack or read per watermark it raises (a read raises both), where known. */
export interface PushedSenders {
  delivered?: KnownSenders;
  read?: KnownSenders;
}

/**
 * Delivery and read receipts as cumulative, monotonic watermarks per recipient device. A device's
 * `ack` clears its inbox and raises "delivered"; `read` raises "read" (and "delivered" with it,
 * since a device cannot read what it has not got). Changes go to every device of the senders
 * whose messages the new watermark covers.
 *
 * Two ways to raise. An ack of what the caller's connection pushed comes with the senders (the
 * session saw every event it pushed): one blind write, no read. Any other ack proves membership and
 * the event's existence, reads the watermark before writing it, and reads the log for the senders.
 */
export class ReceiptService {
  /**
   * Raises of one (conversation, device, state) run one at a time: two acks in flight together
   * must announce their watermarks in the order they were raised, or a slower lower one would reach
   * the senders after a higher one and look like the watermark went back.
   */
  private readonly raises = new KeyedSerializer();
  /** The highest watermark this process wrote per key, oldest first (Map order) for eviction. */
  private readonly written = new Map<string, Seq>();

  constructor(
    private readonly deps: Pick<CoreDeps, 'inbox' | 'receipts' | 'messages' | 'directory'>,
    private readonly membership: Membership,
    private readonly routes: DeviceRoutes,
  ) {}

  /**
   * `sentOnThisConnection`: the caller's connection itself sent the event at `seq` (or a later one)
   * of this conversation. Then the event exists and the caller was one of its recipients, so a
   * member at that seq (fan-out queues only for members), and the two reads that prove it are
   * skipped: most acks and reads answer what the connection just delivered. `pushed`: the senders,
   * when the connection can name them all.
   */
  async delivered(
    caller: Caller,
    conversationId: ConversationId,
    seq: Seq,
    sentOnThisConnection = false,
    pushed?: PushedSenders,
  ): Promise<void> {
    if (!sentOnThisConnection) await this.requireReceivable(caller, conversationId, seq);
    await this.raiseDelivered(caller, conversationId, seq, pushed?.delivered);
  }

  async read(
    caller: Caller,
    conversationId: ConversationId,
    seq: Seq,
    sentOnThisConnection = false,
    pushed?: PushedSenders,
  ): Promise<void> {
    if (!sentOnThisConnection) await this.requireReceivable(caller, conversationId, seq);
    await this.raiseDelivered(caller, conversationId, seq, pushed?.delivered);
    await this.raise(caller, conversationId, 'read', seq, pushed?.read);
  }

  async list(caller: Caller, conversationId: ConversationId): Promise<Watermarks[]> {
    await this.membership.readableSpans(conversationId, caller.userId);
    return this.deps.receipts.list(conversationId);
  }

  private async requireReceivable(caller: Caller, conversationId: ConversationId, seq: Seq): Promise<void> {
    await this.requireReadableThrough(caller, conversationId, seq);
    await this.requireSeqExists(conversationId, seq);
  }

  /**
   * Only members give receipts, and only up to the end of their membership: a stranger's or a
   * departed member's watermark would tell the senders about deliveries that never happened.
   */
  private async requireReadableThrough(caller: Caller, conversationId: ConversationId, seq: Seq): Promise<void> {
    const spans = await this.membership.readableSpans(conversationId, caller.userId);
    const lastReadable = spans[spans.length - 1]?.toSeq ?? 0;
    if (seq > lastReadable) throw new ChatError('NOT_A_MEMBER', `you were not a member of ${conversationId} at seq ${seq}`);
  }

  private async requireSeqExists(conversationId: ConversationId, seq: Seq): Promise<void> {
    const last = await this.deps.messages.lastSeq(conversationId);
    if (seq > last) throw new ChatError('INVALID_FIELD', `seq ${seq} is beyond the end of ${conversationId} (${last})`);
  }

  /**
   * Watermark first, inbox second: a concurrent retried fan-out that re-queues the event checks
   * the watermark after queueing (Fanout), so one of the two always removes it.
   */
  private async raiseDelivered(caller: Caller, conversationId: ConversationId, seq: Seq, known: KnownSenders | undefined): Promise<void> {
    if (!(await this.raise(caller, conversationId, 'delivered', seq, known))) return;
    try {
      await this.deps.inbox.ackThrough(caller, conversationId, seq);
    } catch (error) {
      // A retried ack must clear the inbox, not be skipped as a repeat of this one.
      this.forget(watermarkKey(caller, conversationId, 'delivered'), seq);
      throw error;
    }
  }

  /** False when the ack repeats a watermark already written (nothing was done). */
  private raise(
    caller: Caller,
    conversationId: ConversationId,
    state: ReceiptState,
    seq: Seq,
    known: KnownSenders | undefined,
  ): Promise<boolean> {
    const key = watermarkKey(caller, conversationId, state);
    return this.raises.run(key, async () => {
      if (!known) return this.advanceAndScan(key, caller, conversationId, state, seq);
      const writtenSeq = this.written.get(key) ?? 0;
      // A repeat: this process wrote as much already, and announced it.
      if (seq <= writtenSeq) return false;
      if (!known.earlierSettled && writtenSeq < known.afterSeq) return this.advanceAndScan(key, caller, conversationId, state, seq);
      await this.deps.receipts.raise(conversationId, caller, state, seq);
      this.remember(key, seq);
      await this.announce(caller, conversationId, state, seq, known.senders);
      return true;
    });
  }

  /**
   * The path for senders not known: read the watermark as it rises, then the log it newly covers.
   * Always true: this path clears the inbox even when the watermark did not rise, as it always did.
   */
  private async advanceAndScan(
    key: string,
    caller: Caller,
    conversationId: ConversationId,
    state: ReceiptState,
    seq: Seq,
  ): Promise<boolean> {
    const { previousSeq, currentSeq } = await this.deps.receipts.advance(conversationId, caller, state, seq);
    this.remember(key, currentSeq);
    if (currentSeq <= previousSeq) return true;
    const from = Math.max(previousSeq, currentSeq - RECEIPT_SCAN_EVENTS_MAX);
    const events = await this.deps.messages.readAfter(conversationId, from, currentSeq - from);
    const senders = new Set<UserId>();
    for (const event of events) {
      if (event.kind === 'message') senders.add(event.senderUserId);
    }
    await this.announce(caller, conversationId, state, currentSeq, senders);
    return true;
  }

  private async announce(
    caller: Caller,
    conversationId: ConversationId,
    state: ReceiptState,
    upToSeq: Seq,
    senders: ReadonlySet<UserId>,
  ): Promise<void> {
    const others = [...senders].filter((userId) => userId !== caller.userId);
    if (others.length === 0) return;
    const frame = { type: 'receipt' as const, conversationId, state, upToSeq, userId: caller.userId, deviceId: caller.deviceId };
    // Every sender's devices (the directory's cached lists), then their routes: kept ones, and one
    // registry round trip for the rest (a receipt in a busy group concerns many senders).
    const devices = [...(await this.deps.directory.listDevicesMany(others)).values()].flat();
    const routes = await this.routes.resolve(devices);
    await Promise.all(
      devices.map((device) => {
        const route = routes.get(deviceKey(device));
        return route ? this.routes.deliver(device, route, frame) : undefined;
      }),
    );
  }

  private remember(key: string, seq: Seq): void {
    const writtenSeq = this.written.get(key);
    if (writtenSeq !== undefined && writtenSeq >= seq) return;
    // Re-inserted so the Map's order stays oldest-written first.
    this.written.delete(key);
    this.written.set(key, seq);
    if (this.written.size > REMEMBERED_WATERMARKS_MAX) this.written.delete(this.written.keys().next().value!);
  }

  private forget(key: string, seq: Seq): void {
    if (this.written.get(key) === seq) this.written.delete(key);
  }
}

function watermarkKey(caller: Caller, conversationId: ConversationId, state: ReceiptState): string {
  return `${conversationId} ${caller.userId} ${caller.deviceId} ${state}`;
}

import { ChatError } from '../core/errors.js';
import type { ReceiptState } from '../core/events.js';
import type { ConversationId, Seq, UserId } from '../core/ids.js';
import { KeyedSerializer } from '../core/keyed-serializer.js';
import type { Watermarks } from '../ports/receipt-store.js';
import type { Caller } from './caller.js';
import type { CoreDeps } from './deps.js';
import type { Membership } from './membership.js';

/** Longest run of events scanned to find whom a receipt concerns; older senders learn by `receipts`. */
const RECEIPT_SCAN_EVENTS_MAX = 2_000;

/**
 * Delivery and read receipts as cumulative, monotonic watermarks per recipient device. A device's
 * `ack` clears its inbox and raises "delivered"; `read` raises "read" (and "delivered" with it,
 * since a device cannot read what it has not got). Changes go to every device of the senders
 * whose messages the new watermark covers.
 */
export class ReceiptService {
  /**
   * Raises of one (conversation, device, state) run one at a time: two acks in flight together
   * must announce their watermarks in the order they were raised, or a slower lower one would reach
   * the senders after a higher one and look like the watermark went back.
   */
  private readonly raises = new KeyedSerializer();

  constructor(
    private readonly deps: Pick<CoreDeps, 'inbox' | 'receipts' | 'messages' | 'registry' | 'router'>,
    private readonly membership: Membership,
  ) {}

  /**
   * `sentOnThisConnection`: the caller's connection itself sent the event at `seq` (or a later one)
   * of this conversation. Then the event exists and the caller was one of its recipients, so a
   * member at that seq (fan-out queues only for members), and the two reads that prove it are
   * skipped: most acks and reads answer what the connection just delivered.
   */
  async delivered(caller: Caller, conversationId: ConversationId, seq: Seq, sentOnThisConnection = false): Promise<void> {
    if (!sentOnThisConnection) await this.requireReceivable(caller, conversationId, seq);
    // Watermark first, inbox second: a concurrent retried fan-out that re-queues the event
    // checks the watermark after queueing (Fanout), so one of the two always removes it.
    await this.raise(caller, conversationId, 'delivered', seq);
    await this.deps.inbox.ackThrough(caller, conversationId, seq);
  }

  async read(caller: Caller, conversationId: ConversationId, seq: Seq, sentOnThisConnection = false): Promise<void> {
    if (!sentOnThisConnection) await this.requireReceivable(caller, conversationId, seq);
    await this.raise(caller, conversationId, 'delivered', seq);
    await this.deps.inbox.ackThrough(caller, conversationId, seq);
    await this.raise(caller, conversationId, 'read', seq);
  }

  private async requireReceivable(caller: Caller, conversationId: ConversationId, seq: Seq): Promise<void> {
    await this.requireReadableThrough(caller, conversationId, seq);
    await this.requireSeqExists(conversationId, seq);
  }

  async list(caller: Caller, conversationId: ConversationId): Promise<Watermarks[]> {
    await this.membership.readableSpans(conversationId, caller.userId);
    return this.deps.receipts.list(conversationId);
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

  private raise(caller: Caller, conversationId: ConversationId, state: ReceiptState, seq: Seq): Promise<void> {
    const key = `${conversationId} ${caller.userId} ${caller.deviceId} ${state}`;
    return this.raises.run(key, () => this.raiseNow(caller, conversationId, state, seq));
  }

  private async raiseNow(caller: Caller, conversationId: ConversationId, state: ReceiptState, seq: Seq): Promise<void> {
    const { previousSeq, currentSeq } = await this.deps.receipts.advance(conversationId, caller, state, seq);
    if (currentSeq <= previousSeq) return;
    const from = Math.max(previousSeq, currentSeq - RECEIPT_SCAN_EVENTS_MAX);
    const events = await this.deps.messages.readAfter(conversationId, from, currentSeq - from);
    const senders = new Set<UserId>();
    for (const event of events) {
      if (event.kind === 'message' && event.senderUserId !== caller.userId) senders.add(event.senderUserId);
    }
    const frame = {
      type: 'receipt' as const,
      conversationId,
      state,
      upToSeq: currentSeq,
      userId: caller.userId,
      deviceId: caller.deviceId,
    };
    if (senders.size === 0) return;
    // Every sender's registry entries in one round trip (a receipt in a busy group concerns many senders).
    const routes = await this.deps.registry.lookupMany([...senders]);
    await Promise.all([...routes.values()].flat().map(({ route }) => this.deps.router.deliver(route, frame)));
  }
}

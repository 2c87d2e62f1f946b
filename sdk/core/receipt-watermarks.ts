import type { ServerFrameOf } from '../../system/protocol/frames.js';

/** Watermarks are packed as read × span + delivered while both stay below the span (exact in a double). */
const RECEIPT_SEQ_SPAN = 2 ** 26;

/** Both watermarks of one (conversation, device): packed into one number, or a pair past the span. */
type Marks = number | [delivered: number, read: number];

/**
 * The highest receipt watermark seen per (conversation, device, state). Watermarks are
 * cumulative: one at or below what the client already has is stale (two gateways announced
 * raises out of order, e.g. one that was paused) and says nothing new (docs/protocol.md,
 * "Receipts"). One number per (conversation, device) holds both states (a pair once a seq passes
 * 2^26), and the map is made on the first receipt: a simulated device keeps these while offline.
 */
export class ReceiptWatermarks {
  constructor(private marks: Map<string, Marks> | undefined = undefined) {}

  /** Records the receipt's watermark; false when it is stale (drop the receipt). */
  raise(receipt: Pick<ServerFrameOf<'receipt'>, 'conversationId' | 'userId' | 'deviceId' | 'state' | 'upToSeq'>): boolean {
    const key = `${receipt.conversationId} ${receipt.userId}/${receipt.deviceId}`;
    const marks = (this.marks ??= new Map());
    const current = marks.get(key) ?? 0;
    let delivered = typeof current === 'number' ? current % RECEIPT_SEQ_SPAN : current[0];
    let read = typeof current === 'number' ? Math.floor(current / RECEIPT_SEQ_SPAN) : current[1];
    if (receipt.upToSeq <= (receipt.state === 'read' ? read : delivered)) return false;
    if (receipt.state === 'read') read = receipt.upToSeq;
    else delivered = receipt.upToSeq;
    marks.set(key, delivered < RECEIPT_SEQ_SPAN && read < RECEIPT_SEQ_SPAN ? read * RECEIPT_SEQ_SPAN + delivered : [delivered, read]);
    return true;
  }

  /** What to persist (undefined when no receipt was ever seen). */
  get saved(): Map<string, Marks> | undefined {
    return this.marks;
  }
}

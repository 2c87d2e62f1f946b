import type { ServerFrameOf } from '../../system/protocol/frames.js';

/** Watermarks are packed as read × span + delivered (seqs of one conversation stay far below 2^26). */
const RECEIPT_SEQ_SPAN = 2 ** 26;

/**
 * The highest receipt watermark seen per (conversation, device, state). Watermarks are
 * cumulative: one at or below what the client already has is stale (two gateways announced
 * raises out of order, e.g. one that was paused) and says nothing new (docs/protocol.md,
 * "Receipts"). One number per (conversation, device) holds both states, and the map is made on
 * the first receipt: a simulated device keeps these while offline.
 */
export class ReceiptWatermarks {
  constructor(private marks: Map<string, number> | undefined = undefined) {}

  /** Records the receipt's watermark; false when it is stale (drop the receipt). */
  raise(receipt: Pick<ServerFrameOf<'receipt'>, 'conversationId' | 'userId' | 'deviceId' | 'state' | 'upToSeq'>): boolean {
    const key = `${receipt.conversationId} ${receipt.userId}/${receipt.deviceId}`;
    const marks = (this.marks ??= new Map());
    const packed = marks.get(key) ?? 0;
    const delivered = packed % RECEIPT_SEQ_SPAN;
    const read = Math.floor(packed / RECEIPT_SEQ_SPAN);
    if (receipt.upToSeq <= (receipt.state === 'read' ? read : delivered)) return false;
    marks.set(key, receipt.state === 'read' ? receipt.upToSeq * RECEIPT_SEQ_SPAN + delivered : read * RECEIPT_SEQ_SPAN + receipt.upToSeq);
    return true;
  }

  /** What to persist (undefined when no receipt was ever seen). */
  get saved(): Map<string, number> | undefined {
    return this.marks;
  }
}

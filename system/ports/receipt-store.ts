import type { ReceiptState } from '../core/events.js';
import type { ConversationId, DeviceAddress, DeviceId, Seq, UserId } from '../core/ids.js';

export interface Watermarks {
  userId: UserId;
  deviceId: DeviceId;
  /** Highest seq this device has acknowledged as delivered (cumulative: all below too). */
  deliveredSeq: Seq;
  /** Highest seq this device has marked read (cumulative). */
  readSeq: Seq;
}

/**
 * Receipt watermarks per (conversation, recipient device). Conversations are delivered in order,
 * so one cumulative seq per state says everything; it only ever rises.
 */
export interface ReceiptStore {
  /** Raises the watermark to `seq` if higher; returns the value before and after. */
  advance(
    conversationId: ConversationId,
    device: DeviceAddress,
    state: ReceiptState,
    seq: Seq,
  ): Promise<{ previousSeq: Seq; currentSeq: Seq }>;
  /**
   * Raises the watermark to `seq` if higher, without reading it first (so it cannot say whether it
   * rose). For callers that already know whom a rise concerns: one blind write instead of a read
   * and a write.
   */
  raise(conversationId: ConversationId, device: DeviceAddress, state: ReceiptState, seq: Seq): Promise<void>;
  list(conversationId: ConversationId): Promise<Watermarks[]>;
}

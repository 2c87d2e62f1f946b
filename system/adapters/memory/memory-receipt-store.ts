import type { ReceiptState } from '../../core/events.js';
import { deviceKey, type ConversationId, type DeviceAddress, type Seq } from '../../core/ids.js';
import type { ReceiptStore, Watermarks } from '../../ports/receipt-store.js';

export class MemoryReceiptStore implements ReceiptStore {
  private readonly byConversation = new Map<ConversationId, Map<string, Watermarks>>();

  async advance(conversationId: ConversationId, device: DeviceAddress, state: ReceiptState, seq: Seq) {
    const marks = this.marksOf(conversationId, device);
    const field = state === 'delivered' ? 'deliveredSeq' : 'readSeq';
    const previousSeq = marks[field];
    if (seq > previousSeq) marks[field] = seq;
    return { previousSeq, currentSeq: marks[field] };
  }

  async raise(conversationId: ConversationId, device: DeviceAddress, state: ReceiptState, seq: Seq): Promise<void> {
    const marks = this.marksOf(conversationId, device);
    const field = state === 'delivered' ? 'deliveredSeq' : 'readSeq';
    marks[field] = Math.max(marks[field], seq);
  }

  private marksOf(conversationId: ConversationId, device: DeviceAddress): Watermarks {
    let devices = this.byConversation.get(conversationId);
    if (!devices) {
      devices = new Map();
      this.byConversation.set(conversationId, devices);
    }
    const key = deviceKey(device);
    let marks = devices.get(key);
    if (!marks) {
      marks = { userId: device.userId, deviceId: device.deviceId, deliveredSeq: 0, readSeq: 0 };
      devices.set(key, marks);
    }
    return marks;
  }

  async list(conversationId: ConversationId): Promise<Watermarks[]> {
    return [...(this.byConversation.get(conversationId)?.values() ?? [])].map((m) => ({ ...m }));
  }
}

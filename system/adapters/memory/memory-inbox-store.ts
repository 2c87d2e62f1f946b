import type { ConversationEvent } from '../../core/events.js';
import { deviceKey, type ConversationId, type DeviceAddress, type Seq } from '../../core/ids.js';
import type { InboxPosition, InboxStore } from '../../ports/inbox-store.js';

/** device → conversation → events ascending by seq */
type DeviceInbox = Map<ConversationId, ConversationEvent[]>;

export class MemoryInboxStore implements InboxStore {
  private readonly inboxes = new Map<string, DeviceInbox>();

  async enqueue(device: DeviceAddress, event: ConversationEvent): Promise<void> {
    const key = deviceKey(device);
    let inbox = this.inboxes.get(key);
    if (!inbox) {
      inbox = new Map();
      this.inboxes.set(key, inbox);
    }
    let queue = inbox.get(event.conversationId);
    if (!queue) {
      queue = [];
      inbox.set(event.conversationId, queue);
    }
    // Usually appended at the end (events arrive in seq order); insert in place otherwise.
    let index = queue.length;
    while (index > 0 && queue[index - 1]!.seq > event.seq) index--;
    if (index > 0 && queue[index - 1]!.seq === event.seq) return;
    queue.splice(index, 0, event);
  }

  async list(device: DeviceAddress, limit: number, after?: InboxPosition): Promise<ConversationEvent[]> {
    const inbox = this.inboxes.get(deviceKey(device));
    if (!inbox || limit <= 0) return [];
    const result: ConversationEvent[] = [];
    for (const conversationId of [...inbox.keys()].sort()) {
      if (after && conversationId < after.conversationId) continue;
      for (const event of inbox.get(conversationId)!) {
        if (after && conversationId === after.conversationId && event.seq <= after.seq) continue;
        result.push(event);
        if (result.length >= limit) return result;
      }
    }
    return result;
  }

  async ackThrough(device: DeviceAddress, conversationId: ConversationId, throughSeq: Seq): Promise<void> {
    const inbox = this.inboxes.get(deviceKey(device));
    const queue = inbox?.get(conversationId);
    if (!inbox || !queue) return;
    let drop = 0;
    while (drop < queue.length && queue[drop]!.seq <= throughSeq) drop++;
    if (drop === queue.length) inbox.delete(conversationId);
    else queue.splice(0, drop);
  }

  async depth(device: DeviceAddress): Promise<number> {
    let total = 0;
    for (const queue of this.inboxes.get(deviceKey(device))?.values() ?? []) total += queue.length;
    return total;
  }

  async clear(device: DeviceAddress): Promise<void> {
    this.inboxes.delete(deviceKey(device));
  }
}

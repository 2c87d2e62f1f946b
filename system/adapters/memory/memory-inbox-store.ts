import type { ConversationEvent } from '../../core/events.js';
import { deviceKey, type ConversationId, type DeviceAddress, type Seq } from '../../core/ids.js';
import type { InboxPosition, InboxStore } from '../../ports/inbox-store.js';

/**
 * One device's inbox: per conversation, events ascending by seq, and how many entries in all.
 * Most inboxes hold one conversation, so that one is kept without a Map (the simulator keeps a
 * million devices' inboxes here); a second conversation moves them into one.
 */
interface DeviceInbox {
  soleId: ConversationId | undefined;
  sole: ConversationEvent[] | undefined;
  queues: Map<ConversationId, ConversationEvent[]> | undefined;
  count: number;
}

function queueOf(inbox: DeviceInbox, conversationId: ConversationId): ConversationEvent[] | undefined {
  if (inbox.queues) return inbox.queues.get(conversationId);
  return inbox.soleId === conversationId ? inbox.sole : undefined;
}

/** A new queue holding `first` (a one-element literal: push() onto [] would reserve 17 slots). */
function addQueue(inbox: DeviceInbox, conversationId: ConversationId, first: ConversationEvent): ConversationEvent[] {
  const queue: ConversationEvent[] = [first];
  if (!inbox.queues && inbox.soleId === undefined) {
    inbox.soleId = conversationId;
    inbox.sole = queue;
    return queue;
  }
  if (!inbox.queues) {
    inbox.queues = new Map([[inbox.soleId!, inbox.sole!]]);
    inbox.soleId = undefined;
    inbox.sole = undefined;
  }
  inbox.queues.set(conversationId, queue);
  return queue;
}

function removeQueue(inbox: DeviceInbox, conversationId: ConversationId): void {
  if (inbox.queues) {
    inbox.queues.delete(conversationId);
  } else if (inbox.soleId === conversationId) {
    inbox.soleId = undefined;
    inbox.sole = undefined;
  }
}

/** Conversation ids in ascending order (the order list() pages in). */
function conversationIds(inbox: DeviceInbox): Iterable<ConversationId> {
  if (inbox.queues) return inbox.queues.size === 1 ? inbox.queues.keys() : [...inbox.queues.keys()].sort();
  return inbox.soleId === undefined ? [] : [inbox.soleId];
}

/** Index of the first event with seq above `seq` in a queue ascending by seq (binary search). */
function firstAfter(queue: readonly ConversationEvent[], seq: Seq): number {
  let low = 0;
  let high = queue.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (queue[mid]!.seq <= seq) low = mid + 1;
    else high = mid;
  }
  return low;
}

export class MemoryInboxStore implements InboxStore {
  private readonly inboxes = new Map<string, DeviceInbox>();
  private entries = 0;

  /** Entries queued over every device (kept as they change, so reading it is O(1)). */
  get totalEntries(): number {
    return this.entries;
  }

  async enqueue(device: DeviceAddress, event: ConversationEvent): Promise<void> {
    this.add(device, event);
  }

  async enqueueMany(devices: readonly DeviceAddress[], event: ConversationEvent): Promise<void> {
    for (const device of devices) this.add(device, event);
  }

  private add(device: DeviceAddress, event: ConversationEvent): void {
    const key = deviceKey(device);
    let inbox = this.inboxes.get(key);
    if (!inbox) {
      inbox = { soleId: undefined, sole: undefined, queues: undefined, count: 0 };
      this.inboxes.set(key, inbox);
    }
    const queue = queueOf(inbox, event.conversationId);
    if (!queue) {
      addQueue(inbox, event.conversationId, event);
      inbox.count++;
      this.entries++;
      return;
    }
    // Usually appended at the end (events arrive in seq order); insert in place otherwise.
    let index = queue.length;
    while (index > 0 && queue[index - 1]!.seq > event.seq) index--;
    if (index > 0 && queue[index - 1]!.seq === event.seq) return;
    if (index === queue.length) queue.push(event);
    else queue.splice(index, 0, event);
    inbox.count++;
    this.entries++;
  }

  async list(device: DeviceAddress, limit: number, after?: InboxPosition): Promise<ConversationEvent[]> {
    const inbox = this.inboxes.get(deviceKey(device));
    if (!inbox || limit <= 0) return [];
    const result: ConversationEvent[] = [];
    for (const conversationId of conversationIds(inbox)) {
      if (after && conversationId < after.conversationId) continue;
      const queue = queueOf(inbox, conversationId)!;
      // Paging through a long queue starts each page where the last ended, not at the head.
      const start = after && conversationId === after.conversationId ? firstAfter(queue, after.seq) : 0;
      for (let i = start; i < queue.length; i++) {
        result.push(queue[i]!);
        if (result.length >= limit) return result;
      }
    }
    return result;
  }

  async ackThrough(device: DeviceAddress, conversationId: ConversationId, throughSeq: Seq): Promise<void> {
    const key = deviceKey(device);
    const inbox = this.inboxes.get(key);
    const queue = inbox && queueOf(inbox, conversationId);
    if (!inbox || !queue) return;
    let drop = 0;
    while (drop < queue.length && queue[drop]!.seq <= throughSeq) drop++;
    if (drop === 0) return;
    if (drop === queue.length) removeQueue(inbox, conversationId);
    else queue.splice(0, drop);
    inbox.count -= drop;
    this.entries -= drop;
    // An emptied inbox goes: a million devices' empty records would otherwise stay for the whole run.
    if (inbox.count === 0) this.inboxes.delete(key);
  }

  async depth(device: DeviceAddress): Promise<number> {
    return this.inboxes.get(deviceKey(device))?.count ?? 0;
  }

  async clear(device: DeviceAddress): Promise<void> {
    const key = deviceKey(device);
    const inbox = this.inboxes.get(key);
    if (!inbox) return;
    this.entries -= inbox.count;
    this.inboxes.delete(key);
  }
}

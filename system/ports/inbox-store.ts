import type { ConversationEvent } from '../core/events.js';
import type { ConversationId, DeviceAddress, Seq } from '../core/ids.js';

export interface InboxPosition {
  conversationId: ConversationId;
  seq: Seq;
}

/**
 * Per-device offline queue (fan-out on write). Every event is queued for every recipient device,
 * online or not, and leaves the queue only when that device acknowledges it; so a connection that
 * dies with deliveries in flight loses nothing. A store may also expire entries after a long
 * retention (Cassandra: 30 days); a device away longer catches up from the log by cursor (sync).
 */
export interface InboxStore {
  /** Idempotent on (device, conversationId, seq). */
  enqueue(device: DeviceAddress, event: ConversationEvent): Promise<void>;
  /**
   * `enqueue` of one event for several devices as one batch from the caller's view (a fan-out
   * queues a whole group's copies at once). Idempotent like enqueue; not atomic: after a failure
   * some devices may hold the event, and repeating the call completes the rest.
   */
  enqueueMany(devices: readonly DeviceAddress[], event: ConversationEvent): Promise<void>;
  /** Pending events ordered by (conversationId, seq), strictly after `after` when given. */
  list(device: DeviceAddress, limit: number, after?: InboxPosition): Promise<ConversationEvent[]>;
  /** Removes the device's pending events of the conversation with seq <= throughSeq. */
  ackThrough(device: DeviceAddress, conversationId: ConversationId, throughSeq: Seq): Promise<void>;
  depth(device: DeviceAddress): Promise<number>;
  /** Drops everything queued for a device (when it is unlinked). */
  clear(device: DeviceAddress): Promise<void>;
}

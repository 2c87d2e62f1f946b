import type { ReceiptState } from '../system/core/events.js';

/**
 * A history is what clients observed, in the order they observed it (Jepsen-style). The SDK
 * records it; the load driver, chaos drills and the simulator produce the same shape; the
 * invariant checker reads it. Times are milliseconds on one clock shared by the recorder.
 */
export type HistoryEvent =
  | DeviceLinkedEvent
  | WelcomedEvent
  | ConnectEvent
  | DisconnectEvent
  | SendEvent
  | AckEvent
  | QueuedEvent
  | DeliverEvent
  | ReceiptObservedEvent
  | PresenceObservedEvent
  | QuiesceEvent;

/** A device exists from here on (messages accepted after this are owed to it). */
export interface DeviceLinkedEvent {
  type: 'device';
  atMs: number;
  userId: string;
  deviceId: string;
}

/**
 * The device's client read a `welcome`: a connection may have begun (the server shows the device
 * online once it reads the client's next frame, which may be lost or late). Followed by `connect`
 * when the server answers that frame, and by `disconnect` when the connection ends. The presence
 * check lets the connection begin anywhere between the two: an "online" seen after `welcomed` is
 * justified, an "offline" is wrong only once `connect` was recorded. Optional: a recorder without
 * it records `connect` alone, and the connection begins there.
 */
export interface WelcomedEvent {
  type: 'welcomed';
  atMs: number;
  userId: string;
  deviceId: string;
}

/**
 * The device's connection is up both ways: its client read the welcome and the server answered
 * the client's first frame after it, which it does once it shows the device online (the SDK
 * records it at that `heartbeat_ack`).
 */
export interface ConnectEvent {
  type: 'connect';
  atMs: number;
  userId: string;
  deviceId: string;
}

export interface DisconnectEvent {
  type: 'disconnect';
  atMs: number;
  userId: string;
  deviceId: string;
}

/** A client sent (or re-sent: attempt > 1) a chat message. */
export interface SendEvent {
  type: 'send';
  atMs: number;
  userId: string;
  deviceId: string;
  conversationId: string;
  clientMessageId: string;
  attempt: number;
}

/**
 * The server took a send into its write-ahead log (store outage) without a seq yet: the sender's
 * one tick. The seq arrives later (an `ack` of the same message); durability requires it does.
 */
export interface QueuedEvent {
  type: 'queued';
  atMs: number;
  userId: string;
  deviceId: string;
  conversationId: string;
  clientMessageId: string;
}

/** The server acknowledged a send and assigned it a seq. */
export interface AckEvent {
  type: 'ack';
  atMs: number;
  userId: string;
  deviceId: string;
  conversationId: string;
  clientMessageId: string;
  seq: number;
}

/**
 * The SDK handed a conversation event to the application on this device (after its own
 * de-duplication and ordering). Membership events carry op and userIds.
 */
export interface DeliverEvent {
  type: 'deliver';
  atMs: number;
  userId: string;
  deviceId: string;
  conversationId: string;
  seq: number;
  kind: 'message' | 'membership';
  senderUserId?: string;
  senderDeviceId?: string;
  clientMessageId?: string;
  op?: 'created' | 'added' | 'removed' | 'left' | 'admin_granted' | 'admin_revoked';
  memberUserIds?: string[];
  /** How the event arrived: pushed live, drained from the offline inbox, or fetched by sync/history. */
  via: 'live' | 'sync';
}

/** A device saw a receipt: `byUser`/`byDevice` reached `state` for every event up to `upToSeq`. */
export interface ReceiptObservedEvent {
  type: 'receipt';
  atMs: number;
  userId: string;
  deviceId: string;
  conversationId: string;
  state: ReceiptState;
  upToSeq: number;
  byUserId: string;
  byDeviceId: string;
}

/** A device was told that `subjectUserId` is online or offline. */
export interface PresenceObservedEvent {
  type: 'presence';
  atMs: number;
  userId: string;
  deviceId: string;
  subjectUserId: string;
  online: boolean;
}

/**
 * The run has healed and settled: these devices were connected and caught up at `atMs`, so
 * every message owed to them must have been delivered (the liveness half of durability).
 */
export interface QuiesceEvent {
  type: 'quiesce';
  atMs: number;
  devices: Array<{ userId: string; deviceId: string }>;
}

export type History = HistoryEvent[];

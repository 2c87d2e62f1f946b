import type { HistoryEvent, QueuedEvent, SendEvent } from '../../checker/history.js';
import type { ConversationEvent } from '../../system/core/events.js';
import type { ConversationId, Seq } from '../../system/core/ids.js';
import type { ServerFrameOf } from '../../system/protocol/frames.js';
import type { HistorySink } from '../history-recorder.js';
import type { Via } from '../ordering.js';
import type { PendingSend } from './outbox.js';
import type { DeviceAddress } from './ports.js';

/** The device an observation is about (the welcome's): unknown before the first welcome. */
type Device = DeviceAddress | undefined;

/** Who recorded an event: the device's ids, empty while it is not known yet. */
function observer(device: Device): { userId: string; deviceId: string } {
  return { userId: device?.userId ?? '', deviceId: device?.deviceId ?? '' };
}

/*
 * The checker's history events a client core records (field names as in checker/history.ts), one
 * object each: a simulated run records several per message.
 */

export function recordConnection(
  sink: HistorySink,
  type: 'device' | 'welcomed' | 'connect' | 'disconnect',
  atMs: number,
  device: NonNullable<Device>,
): void {
  sink.record({ type, atMs, userId: device.userId, deviceId: device.deviceId });
}

/** `send` per attempt (with its number), `queued` when the server logged it without a seq yet. */
export function recordSend(sink: HistorySink, type: 'send' | 'queued', atMs: number, device: Device, send: PendingSend): void {
  const event = {
    type,
    atMs,
    ...observer(device),
    conversationId: send.conversationId,
    clientMessageId: send.clientMessageId,
  } as SendEvent | QueuedEvent;
  if (event.type === 'send') event.attempt = send.attempt;
  sink.record(event);
}

export function recordAck(
  sink: HistorySink,
  atMs: number,
  device: Device,
  conversationId: ConversationId,
  clientMessageId: string,
  seq: Seq,
): void {
  sink.record({ type: 'ack', atMs, ...observer(device), conversationId, clientMessageId, seq });
}

export function recordReceipt(sink: HistorySink, atMs: number, device: Device, receipt: ServerFrameOf<'receipt'>): void {
  sink.record({
    type: 'receipt',
    atMs,
    ...observer(device),
    conversationId: receipt.conversationId,
    state: receipt.state,
    upToSeq: receipt.upToSeq,
    byUserId: receipt.userId,
    byDeviceId: receipt.deviceId,
  });
}

export function recordPresence(sink: HistorySink, atMs: number, device: Device, presence: ServerFrameOf<'presence'>): void {
  sink.record({
    type: 'presence',
    atMs,
    ...observer(device),
    subjectUserId: presence.userId,
    online: presence.online,
  });
}

/** The history record of an event handed to the app on a device (the checker's `deliver`). */
export function deliverRecord(atMs: number, device: Device, event: ConversationEvent, via: Via): HistoryEvent {
  const base = {
    type: 'deliver' as const,
    atMs,
    ...observer(device),
    conversationId: event.conversationId,
    seq: event.seq,
    kind: event.kind,
    via,
  };
  if (event.kind === 'message') {
    return { ...base, senderUserId: event.senderUserId, senderDeviceId: event.senderDeviceId, clientMessageId: event.clientMessageId };
  }
  return { ...base, op: event.op, memberUserIds: event.userIds };
}

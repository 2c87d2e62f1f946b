import type { HistoryEvent } from '../checker/history.js';
import type { ConversationEvent } from '../system/core/events.js';
import type { Via } from './ordering.js';

/** Where a client writes what it observed. The simulator may supply its own sink. */
export interface HistorySink {
  record(event: HistoryEvent): void;
}

/**
 * One append-only array for a whole run, shared by every client in the process; the checker
 * reads it afterwards. Clients stamp events with their own clock, so give all clients of a run
 * the same clock (or clocks that agree) for the times to be comparable.
 */
export class HistoryRecorder implements HistorySink {
  readonly events: HistoryEvent[] = [];

  record(event: HistoryEvent): void {
    this.events.push(event);
  }
}

/** The history record of an event handed to the app on a device (the checker's `deliver`). */
export function deliverRecord(
  atMs: number,
  device: { userId: string; deviceId: string } | undefined,
  event: ConversationEvent,
  via: Via,
): HistoryEvent {
  const base = {
    type: 'deliver' as const,
    atMs,
    userId: device?.userId ?? '',
    deviceId: device?.deviceId ?? '',
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

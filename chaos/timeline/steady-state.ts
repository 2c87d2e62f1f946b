import type { HistoryEvent } from '../../checker/history.js';
import { latencySummary, type Percentiles } from '../../checker/index.js';

/** A stretch of the run that is not steady state: from a fault's injection until it recovered. */
export interface DisturbedWindow {
  fromS: number;
  /** null: never recovered, disturbed until the end. */
  untilS: number | null;
}

function messageKey(conversationId: string, clientMessageId: string, userId: string, deviceId: string): string {
  return `${conversationId}\u0000${clientMessageId}\u0000${userId}\u0000${deviceId}`;
}

/**
 * Send→ack and send→deliver latency of the messages first sent in steady state: after the
 * warm-up and outside every disturbed window. This is what the drill's steady-state hypothesis is
 * judged on; the fault windows themselves are judged by recovery time. Times in the history are
 * epoch milliseconds; `originMs` is t = 0 of the windows.
 */
export function steadyStateLatency(
  history: readonly HistoryEvent[],
  originMs: number,
  warmupS: number,
  windows: readonly DisturbedWindow[],
): { ack: Percentiles; deliver: Percentiles } {
  const firstSendS = new Map<string, number>();
  for (const e of history) {
    if (e.type !== 'send') continue;
    const key = messageKey(e.conversationId, e.clientMessageId, e.userId, e.deviceId);
    const atS = (e.atMs - originMs) / 1000;
    const known = firstSendS.get(key);
    if (known === undefined || atS < known) firstSendS.set(key, atS);
  }
  const steady = (atS: number) => atS >= warmupS && windows.every((w) => atS < w.fromS || (w.untilS !== null && atS >= w.untilS));
  const kept = history.filter((e) => {
    let key: string | undefined;
    if (e.type === 'send' || e.type === 'ack') key = messageKey(e.conversationId, e.clientMessageId, e.userId, e.deviceId);
    else if (e.type === 'deliver' && e.clientMessageId !== undefined && e.senderUserId !== undefined && e.senderDeviceId !== undefined) {
      key = messageKey(e.conversationId, e.clientMessageId, e.senderUserId, e.senderDeviceId);
    }
    if (key === undefined) return false;
    const atS = firstSendS.get(key);
    return atS !== undefined && steady(atS);
  });
  return latencySummary(kept);
}

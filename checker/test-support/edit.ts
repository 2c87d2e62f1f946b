import type { HistoryEvent } from '../history.js';

type Pred = (e: HistoryEvent) => boolean;

export function indexWhere(history: readonly HistoryEvent[], pred: Pred): number {
  const i = history.findIndex(pred);
  if (i < 0) throw new Error('test history has no such event');
  return i;
}

/** A copy without the first matching event. */
export function drop(history: readonly HistoryEvent[], pred: Pred): HistoryEvent[] {
  const i = indexWhere(history, pred);
  return [...history.slice(0, i), ...history.slice(i + 1)];
}

/** A copy with the first two matching events' positions swapped. */
export function swap(history: readonly HistoryEvent[], a: Pred, b: Pred): HistoryEvent[] {
  const i = indexWhere(history, a);
  const j = indexWhere(history, b);
  const out = [...history];
  [out[i], out[j]] = [out[j]!, out[i]!];
  return out;
}

/** A copy with a clone of the first matching event inserted right after it. */
export function duplicate(history: readonly HistoryEvent[], pred: Pred): HistoryEvent[] {
  const i = indexWhere(history, pred);
  return [...history.slice(0, i + 1), { ...history[i]! }, ...history.slice(i + 1)];
}

/** A copy with `extra` inserted before the first matching event. */
export function insertBefore(history: readonly HistoryEvent[], pred: Pred, ...extra: HistoryEvent[]): HistoryEvent[] {
  const i = indexWhere(history, pred);
  return [...history.slice(0, i), ...extra, ...history.slice(i)];
}

export const isDeliver =
  (userId: string, deviceId: string, seq: number) =>
  (e: HistoryEvent): boolean =>
    e.type === 'deliver' && e.userId === userId && e.deviceId === deviceId && e.seq === seq;

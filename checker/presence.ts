import type { ConnectEvent, HistoryEvent, PresenceObservedEvent } from './history.js';
import { deviceKeyOf, toIndex, type HistoryIndex, type HistoryInput } from './history-index.js';
import { DEFAULT_PRESENCE_GRACE_MS, DEFAULT_PRESENCE_TTL_MS, type CheckOptions } from './options.js';
import { ViolationSink, type Violation } from './violation.js';

/**
 * One connection of one device: it began somewhere in [start, confirmed] (its `welcomed` and its
 * `connect`; both the `connect` when there is no `welcomed`; confirmed is Infinity while the
 * server has not answered) and ended at `end` (Infinity while open).
 */
interface Interval {
  start: number;
  confirmed: number;
  end: number;
  connectIdx: number;
  disconnectIdx: number; // -1 while open
}

/** A user's connection intervals sorted by one of their begin times, with a running maximum of their ends. */
interface SortedIntervals {
  intervals: Interval[];
  /** prefixMaxEnd[k] = index (into intervals) of the latest-ending interval among 0..k. */
  prefixMaxEnd: number[];
}

/** By start (for "online": could a connection have begun?) and by confirmation (for "offline": had one surely begun?). */
interface UserIntervals {
  byStart: SortedIntervals;
  byConfirmed: SortedIntervals;
}

/**
 * presence — a user shown online had a live connection within the TTL; shown offline within
 * the TTL of disconnect. With ttl = presenceTtlMs (default 60 s) and grace = presenceGraceMs
 * (default 2 s), for an observation of subject u at time t:
 *
 * - `online: true` is wrong when no device of u had a connection [c, d] with c ≤ t + grace and
 *   d ≥ t − ttl − grace (d = ∞ while still connected).
 * - `online: false` is wrong when some device of u was continuously connected from before
 *   t − grace through t + grace: a connection with c ≤ t − grace and d > t + grace.
 *
 * A connection's begin c is known to lie between its `welcomed` (the client read the welcome)
 * and its `connect` (the server answered the client's next frame, having shown the device
 * online); the check gives the system the benefit of that doubt: `online: true` may lean on the
 * `welcomed`, `online: false` is wrong only against the `connect`. A connection recorded with
 * `connect` alone begins there.
 *
 * An observation followed at the same instant by another of the same subject by the same watcher
 * is not judged: only the last state read at an instant is shown.
 *
 * Connections come from each device's connect/disconnect events in history order (a connect
 * while already connected is ignored; a disconnect closes the open connection). Subjects with no
 * recorded device are not checked (their connections are not in the history).
 */
export function presence(history: HistoryInput, options: CheckOptions = {}): Violation[] {
  const sink = new ViolationSink('presence', options.maxViolationsPerInvariant);
  checkPresence(toIndex(history), options, sink);
  return sink.violations;
}

export function checkPresence(index: HistoryIndex, options: CheckOptions, sink: ViolationSink): void {
  const { history } = index;
  const ttl = options.presenceTtlMs ?? DEFAULT_PRESENCE_TTL_MS;
  const grace = options.presenceGraceMs ?? DEFAULT_PRESENCE_GRACE_MS;
  const byUser = connectionIntervals(history);

  for (let i = 0; i < history.length; i++) {
    const e = history[i]!;
    if (e.type !== 'presence') continue;
    if (!index.devicesByUser.has(e.subjectUserId)) continue;
    if (replacedAtSameInstant(history, i, e)) continue;
    const conns = byUser.get(e.subjectUserId);
    const t = e.atMs;
    if (e.online) {
      // Some connection that may have begun by t + grace and not ended before t − ttl − grace.
      const list = conns?.byStart;
      const k = list ? lastBeginAtOrBefore(list.intervals, t + grace, 'start') : -1;
      const best = k >= 0 ? list!.intervals[list!.prefixMaxEnd[k]!]! : undefined;
      if (best && best.end >= t - ttl - grace) continue;
      sink.report(() => ({
        message: best
          ? `${observer(e)} was shown ${e.subjectUserId} online at ${t} ms, but ${e.subjectUserId}'s last connection ended at ${best.end} ms (TTL ${ttl} ms, grace ${grace} ms)`
          : `${observer(e)} was shown ${e.subjectUserId} online at ${t} ms, but ${e.subjectUserId} had no connection by then`,
        userId: e.subjectUserId,
        witness: best ? [history[best.connectIdx]!, ...(best.disconnectIdx >= 0 ? [history[best.disconnectIdx]!] : []), e] : [e],
      }));
    } else {
      // Some connection surely begun (confirmed) by t − grace and still open after t + grace.
      const list = conns?.byConfirmed;
      const k = list ? lastBeginAtOrBefore(list.intervals, t - grace, 'confirmed') : -1;
      const best = k >= 0 ? list!.intervals[list!.prefixMaxEnd[k]!]! : undefined;
      // A device recorded as disconnecting just after its watchers saw it go offline is the same
      // race as a connect seen late: the server learns of a close before the closing client's
      // history does, so the grace applies at this end too.
      if (!best || best.end <= t + grace) continue;
      const connect = history[best.connectIdx] as ConnectEvent;
      sink.report(() => {
        const witness: HistoryEvent[] = [connect, e];
        if (best.disconnectIdx >= 0) witness.push(history[best.disconnectIdx]!);
        return {
          message:
            `${observer(e)} was shown ${e.subjectUserId} offline at ${t} ms, but ${deviceKeyOf(connect.userId, connect.deviceId)} ` +
            `was connected from ${best.confirmed} ms ` +
            (best.disconnectIdx >= 0 ? `to ${best.end} ms` : 'to the end of the history'),
          userId: e.subjectUserId,
          deviceId: connect.deviceId,
          witness,
        };
      });
    }
  }
}

/**
 * A watcher that reads two states of one subject at the same instant (a backlog read at once: a
 * slow link, a gateway that woke) shows only the last: the earlier one was never on screen.
 */
function replacedAtSameInstant(history: readonly HistoryEvent[], i: number, e: PresenceObservedEvent): boolean {
  for (let k = i + 1; k < history.length && history[k]!.atMs === e.atMs; k++) {
    const later = history[k]!;
    if (later.type === 'presence' && later.userId === e.userId && later.deviceId === e.deviceId && later.subjectUserId === e.subjectUserId)
      return true;
  }
  return false;
}

function observer(e: PresenceObservedEvent): string {
  return deviceKeyOf(e.userId, e.deviceId);
}

function connectionIntervals(history: readonly HistoryEvent[]): Map<string, UserIntervals> {
  const open = new Map<string, Interval>();
  const byUser = new Map<string, Interval[]>();
  for (let i = 0; i < history.length; i++) {
    const e = history[i]!;
    if (e.type !== 'welcomed' && e.type !== 'connect' && e.type !== 'disconnect') continue;
    const key = deviceKeyOf(e.userId, e.deviceId);
    const current = open.get(key);
    if (e.type === 'welcomed' || e.type === 'connect') {
      if (current) {
        // The server answered the connection's first frame: it has surely begun.
        if (e.type === 'connect' && current.confirmed === Infinity) {
          current.confirmed = e.atMs;
          current.connectIdx = i;
        }
        continue;
      }
      const interval: Interval = {
        start: e.atMs,
        confirmed: e.type === 'connect' ? e.atMs : Infinity,
        end: Infinity,
        connectIdx: i,
        disconnectIdx: -1,
      };
      open.set(key, interval);
      let list = byUser.get(e.userId);
      if (!list) {
        list = [];
        byUser.set(e.userId, list);
      }
      list.push(interval);
    } else if (current) {
      current.end = e.atMs;
      current.disconnectIdx = i;
      open.delete(key);
    }
  }
  const out = new Map<string, UserIntervals>();
  for (const [userId, intervals] of byUser) {
    out.set(userId, { byStart: sortedBy(intervals, 'start'), byConfirmed: sortedBy(intervals, 'confirmed') });
  }
  return out;
}

function sortedBy(all: readonly Interval[], begin: 'start' | 'confirmed'): SortedIntervals {
  const intervals = [...all].sort((a, b) => a[begin] - b[begin]);
  const prefixMaxEnd: number[] = [];
  let best = 0;
  for (let k = 0; k < intervals.length; k++) {
    if (intervals[k]!.end > intervals[best]!.end) best = k;
    prefixMaxEnd.push(best);
  }
  return { intervals, prefixMaxEnd };
}

function lastBeginAtOrBefore(intervals: readonly Interval[], t: number, begin: 'start' | 'confirmed'): number {
  let lo = 0;
  let hi = intervals.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (intervals[mid]![begin] <= t) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

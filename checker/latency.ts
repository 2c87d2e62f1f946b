import * as hdr from 'hdr-histogram-js';
import type { AckEvent, HistoryEvent } from './history.js';

/** Latency samples in milliseconds (fractions allowed). */
export interface LatencySamples {
  /** first send (lowest attempt, earliest) → first ack, one per acked message. */
  ackMs: number[];
  /** first send → each `deliver` with via 'live' of that message, one per live delivery. */
  deliverMs: number[];
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
}

/**
 * Send→ack and send→deliver latencies from a history. The start is the message's first send
 * (the earliest event with the lowest attempt number, normally attempt 1), so retries count
 * against latency. Deliveries via 'sync' (offline inbox, history fetch) are not latency samples.
 * Messages whose send was not recorded yield no samples; negative differences (recorder clock
 * oddities) are clamped to 0.
 */
export function latencySamples(history: readonly HistoryEvent[]): LatencySamples {
  // Pass 1: first send of each message (conversation → clientMessageId → per sender), first acks.
  const sends = new Map<string, Map<string, SendInfo[]>>();
  const ackMs: number[] = [];
  for (const e of history) {
    if (e.type !== 'send' && e.type !== 'ack') continue;
    const info = sendInfo(sends, e.conversationId, e.clientMessageId, e.userId, e.deviceId);
    if (e.type === 'send') {
      if (info.attempt < 0 || e.attempt < info.attempt) {
        info.atMs = e.atMs;
        info.attempt = e.attempt;
      }
    } else if (!info.acked) {
      info.acked = true;
      info.ack = e;
    }
  }
  for (const byId of sends.values()) {
    for (const list of byId.values()) {
      for (const info of list) if (info.ack && info.attempt >= 0) ackMs.push(Math.max(0, info.ack.atMs - info.atMs));
    }
  }
  // Pass 2: live deliveries.
  const deliverMs: number[] = [];
  for (const e of history) {
    if (e.type !== 'deliver' || e.via !== 'live' || e.kind !== 'message' || e.clientMessageId === undefined) continue;
    const list = sends.get(e.conversationId)?.get(e.clientMessageId);
    if (!list) continue;
    for (const info of list) {
      if (info.userId === e.senderUserId && info.deviceId === e.senderDeviceId) {
        if (info.attempt >= 0) deliverMs.push(Math.max(0, e.atMs - info.atMs));
        break;
      }
    }
  }
  return { ackMs, deliverMs };
}

interface SendInfo {
  userId: string;
  deviceId: string;
  atMs: number;
  /** Lowest attempt seen; -1 while no send was recorded. */
  attempt: number;
  acked: boolean;
  ack: AckEvent | undefined;
}

function sendInfo(
  sends: Map<string, Map<string, SendInfo[]>>,
  conversationId: string,
  clientMessageId: string,
  userId: string,
  deviceId: string,
): SendInfo {
  let byId = sends.get(conversationId);
  if (!byId) {
    byId = new Map();
    sends.set(conversationId, byId);
  }
  let list = byId.get(clientMessageId);
  if (!list) {
    list = [];
    byId.set(clientMessageId, list);
  }
  for (const info of list) if (info.userId === userId && info.deviceId === deviceId) return info;
  const info: SendInfo = { userId, deviceId, atMs: 0, attempt: -1, acked: false, ack: undefined };
  list.push(info);
  return info;
}

/** Largest value recorded: one hour, in microseconds. Longer samples are clamped to it. */
const HIGHEST_TRACKABLE_US = 3_600_000_000;

/**
 * Percentiles of millisecond samples via an HDR histogram. Samples are recorded in whole
 * microseconds (ms × 1000, rounded), so sub-millisecond latencies keep their precision; the
 * histogram keeps 3 significant digits (≤ 0.1 % error) from 1 µs to 1 h, and results are given
 * back in milliseconds (fractional). `max` and `count` are exact; percentiles never exceed max.
 * No samples → all zeros.
 */
export function percentiles(samples: readonly number[]): Percentiles {
  if (samples.length === 0) return { p50: 0, p95: 0, p99: 0, p999: 0, max: 0, count: 0 };
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });
  try {
    let max = 0;
    for (const ms of samples) {
      const safe = Number.isFinite(ms) ? Math.max(0, ms) : 0;
      if (safe > max) max = safe;
      histogram.recordValue(Math.min(HIGHEST_TRACKABLE_US, Math.round(safe * 1000)));
    }
    const at = (p: number): number => Math.min(max, histogram.getValueAtPercentile(p) / 1000);
    return { p50: at(50), p95: at(95), p99: at(99), p999: at(99.9), max, count: samples.length };
  } finally {
    histogram.destroy();
  }
}

/** Both latency distributions of a history, as the run summaries report them (`latency_ms`). */
export function latencySummary(history: readonly HistoryEvent[]): { ack: Percentiles; deliver: Percentiles } {
  const { ackMs, deliverMs } = latencySamples(history);
  return { ack: percentiles(ackMs), deliver: percentiles(deliverMs) };
}

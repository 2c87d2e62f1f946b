import * as hdr from 'hdr-histogram-js';
import type { LatencyFiguresMs } from './types.js';

/** Largest latency kept: one hour in microseconds; longer samples are clamped to it. */
const HIGHEST_TRACKABLE_US = 3_600_000_000;

function buildHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_TRACKABLE_US, numberOfSignificantValueDigits: 3 });
}

/**
 * One latency distribution as an HDR histogram (microsecond resolution, 3 significant digits),
 * plus a one-second window for the live display and the time series.
 */
export class LatencyRecorder {
  private readonly total = buildHistogram();
  private readonly window = buildHistogram();
  private maxMs = 0;

  record(ms: number): void {
    const safe = Number.isFinite(ms) ? Math.max(0, ms) : 0;
    const us = Math.min(HIGHEST_TRACKABLE_US, Math.max(1, Math.round(safe * 1000)));
    this.total.recordValue(us);
    this.window.recordValue(us);
    if (safe > this.maxMs) this.maxMs = safe;
  }

  get count(): number {
    return this.total.totalCount;
  }

  figures(): LatencyFiguresMs {
    const count = this.total.totalCount;
    if (count === 0) return { p50: 0, p95: 0, p99: 0, p999: 0, max: 0, count: 0 };
    const at = (p: number) => Math.min(this.maxMs, this.total.getValueAtPercentile(p) / 1000);
    return { p50: at(50), p95: at(95), p99: at(99), p999: at(99.9), max: this.maxMs, count };
  }

  /** Percentile over the current window (ms), or null when the window is empty. */
  windowPercentile(p: number): number | null {
    return this.window.totalCount === 0 ? null : this.window.getValueAtPercentile(p) / 1000;
  }

  resetWindow(): void {
    this.window.reset();
  }

  destroy(): void {
    this.total.destroy();
    this.window.destroy();
  }
}

/** Where the live measurements also go (the driver's Prometheus metrics). */
export interface MeasurementObserver {
  sent(): void;
  acked(latencyMs: number | null): void;
  delivered(via: 'live' | 'sync', latencyMs: number | null): void;
  receipt(latencyMs: number): void;
  error(code: string): void;
  connections(open: number): void;
}

/**
 * The driver's own measurements, taken as things happen: counts, and send→ack, send→deliver,
 * send→receipt and media upload latencies. Latency runs from the *scheduled* send time (open
 * model, no coordinated omission); only messages scheduled after the warm-up are timed.
 */
export class LoadMeasurements {
  readonly ack = new LatencyRecorder();
  readonly deliver = new LatencyRecorder();
  readonly receipt = new LatencyRecorder();
  readonly upload = new LatencyRecorder();
  sent = 0;
  acked = 0;
  deliveredLive = 0;
  deliveredSync = 0;
  /** Sends that our own churn closed before their ack (not errors: the user went away). */
  abandoned = 0;
  readonly errors = new Map<string, number>();
  /** Send attempts the server refused for now, by code: the client re-sends them, so they are not errors. */
  readonly refused = new Map<string, number>();
  /** Epoch ms before which scheduled messages are warm-up: counted, not timed. */
  measureFromMs = Number.POSITIVE_INFINITY;

  constructor(private readonly observer?: MeasurementObserver) {}

  get errorCount(): number {
    let n = 0;
    for (const v of this.errors.values()) n += v;
    return n;
  }

  get refusedCount(): number {
    let n = 0;
    for (const v of this.refused.values()) n += v;
    return n;
  }

  isMeasured(scheduledAtMs: number): boolean {
    return scheduledAtMs >= this.measureFromMs;
  }

  onSent(): void {
    this.sent++;
    this.observer?.sent();
  }

  onAck(scheduledAtMs: number, nowMs: number): void {
    this.acked++;
    const latency = this.isMeasured(scheduledAtMs) ? nowMs - scheduledAtMs : null;
    if (latency !== null) this.ack.record(latency);
    this.observer?.acked(latency);
  }

  onDeliver(via: 'live' | 'sync', scheduledAtMs: number | undefined, nowMs: number): void {
    if (via === 'live') this.deliveredLive++;
    else this.deliveredSync++;
    const latency = via === 'live' && scheduledAtMs !== undefined && this.isMeasured(scheduledAtMs) ? nowMs - scheduledAtMs : null;
    if (latency !== null) this.deliver.record(latency);
    this.observer?.delivered(via, latency);
  }

  onReceipt(scheduledAtMs: number, nowMs: number): void {
    if (!this.isMeasured(scheduledAtMs)) return;
    this.receipt.record(nowMs - scheduledAtMs);
    this.observer?.receipt(nowMs - scheduledAtMs);
  }

  onError(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    this.observer?.error(code);
  }

  onRefused(code: string): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1);
  }

  resetWindows(): void {
    this.ack.resetWindow();
    this.deliver.resetWindow();
    this.receipt.resetWindow();
    this.upload.resetWindow();
  }

  destroy(): void {
    this.ack.destroy();
    this.deliver.destroy();
    this.receipt.destroy();
    this.upload.destroy();
  }
}

/** Wall-clock epoch milliseconds with sub-millisecond precision (comparable with Date.now()). */
export function nowEpochMs(): number {
  return performance.timeOrigin + performance.now();
}

import * as hdr from 'hdr-histogram-js';
import type { Percentiles } from '../../checker/latency.js';
import type { ErrorCode } from '../../system/core/errors.js';
import type { Metrics } from '../../system/ports/metrics.js';
import { LogHistogram, type LogHistogramJson } from './log-histogram.js';

/** One interval of the time series in the report (simulated time). */
export interface SeriesPoint {
  t_s: number;
  sent_per_s: number;
  acked_per_s: number;
  delivered_per_s: number;
  ack_p50_ms: number;
  ack_p99_ms: number;
  deliver_p50_ms: number;
  deliver_p99_ms: number;
  online_devices: number;
  inbox_depth: number;
  /**
   * Queueing figures are the interval's peaks, the same figure whose run-wide maximum the summary
   * text gives (`depths.*_peak`); a value at the interval's end would miss a burst in between.
   * The busiest gateway's longest wait for a CPU core in the interval (ms).
   */
  gateway_cpu_wait_ms_peak: number;
  /** Most requests waiting for a Cassandra server at once in the interval. */
  cassandra_queue_peak: number;
  /** Most requests waiting for a Redis server at once in the interval. */
  redis_queue_peak: number;
  wal_depth: number | null;
  /**
   * Busy share of each tier's servers in the interval (service time ÷ servers × interval), and of
   * the busiest gateway's cores. Absent from summaries written before these were recorded.
   */
  cassandra_utilisation?: number;
  redis_utilisation?: number;
  gateway_cpu_utilisation_max?: number;
  /** Connections on each gateway at the interval's end, in topology order (who took a reconnect storm). */
  connections_per_gateway?: number[];
  /** Error frames the devices received, per second over the interval. */
  errors_per_s?: number;
  /** Requests to Cassandra and to Redis that timed out, per second over the interval. */
  cassandra_timeouts_per_s?: number;
  redis_timeouts_per_s?: number;
}

/** One latency histogram in a summary file. */
export interface EncodedLatency {
  /** HDR histogram of µs values (the settings of newHdr below), compressed, base64. */
  hdr_base64: string;
  max_ms: number;
  count: number;
}

export interface RunHistograms {
  ack: EncodedLatency;
  deliver: EncodedLatency;
  presence_staleness: LogHistogramJson;
}

/** Percentiles of an HDR histogram of µs values, in ms, capped at the exact max. */
export function percentilesOfHdr(h: hdr.Histogram, maxMs: number, count: number): Percentiles {
  if (count === 0) return { p50: 0, p95: 0, p99: 0, p999: 0, max: 0, count: 0 };
  const at = (p: number) => Math.min(maxMs, h.getValueAtPercentile(p) / 1000);
  return { p50: at(50), p95: at(95), p99: at(99), p999: at(99.9), max: maxMs, count };
}

/** HDR settings of checker/latency.ts: µs from 1 µs to 1 h, 3 significant digits. */
export function newHdr(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });
}

/**
 * Everything the report measures while the run goes: run-wide HDR latency histograms
 * (send→ack and send→deliver for live deliveries, after warm-up), per-interval throughput and
 * percentiles, and the depths the world samples at each interval's end. Also the core's Metrics
 * port, so the server side's own counts (accepted, fan-out) come from the real code.
 */
export class RunCollector implements Metrics {
  private readonly ackHdr = newHdr();
  private readonly deliverHdr = newHdr();
  private ackMax = 0;
  private deliverMax = 0;
  ackCount = 0;
  deliverCount = 0;
  readonly series: SeriesPoint[] = [];
  private interval = this.freshInterval();
  sent = 0;
  acked = 0;
  delivered = 0;
  deliveredLive = 0;
  rejected = 0;
  accepted = 0;
  fanoutDevices = 0;
  fanoutEvents = 0;
  connectionsOpened = 0;
  pushes = 0;
  readonly errors = new Map<string, number>();
  presenceStalenessMs = new LogHistogram();

  constructor(
    readonly intervalMs: number,
    readonly warmupMs: number,
  ) {}

  private freshInterval() {
    return { sent: 0, acked: 0, delivered: 0, errors: 0, ack: new LogHistogram(), deliver: new LogHistogram() };
  }

  // ---------- client-side observations ----------

  messageSent(): void {
    this.sent++;
    this.interval.sent++;
  }

  ackObserved(atMs: number, latencyMs: number): void {
    this.acked++;
    this.interval.acked++;
    this.interval.ack.record(latencyMs);
    if (atMs < this.warmupMs) return;
    this.ackHdr.recordValue(Math.min(3_600_000_000, Math.round(Math.max(0, latencyMs) * 1000)));
    if (latencyMs > this.ackMax) this.ackMax = latencyMs;
    this.ackCount++;
  }

  deliveryObserved(atMs: number, latencyMs: number | undefined): void {
    this.delivered++;
    this.interval.delivered++;
    if (latencyMs === undefined) return;
    this.deliveredLive++;
    this.interval.deliver.record(latencyMs);
    if (atMs < this.warmupMs) return;
    this.deliverHdr.recordValue(Math.min(3_600_000_000, Math.round(Math.max(0, latencyMs) * 1000)));
    if (latencyMs > this.deliverMax) this.deliverMax = latencyMs;
    this.deliverCount++;
  }

  /** Forgets what the set-up (devices linked, groups created) made the core count. */
  resetServerCounts(): void {
    this.accepted = 0;
    this.fanoutDevices = 0;
    this.fanoutEvents = 0;
    this.connectionsOpened = 0;
    this.pushes = 0;
    this.errors.clear();
  }

  /** Closes the current interval with the world's depths. */
  closeInterval(
    endMs: number,
    depths: Omit<
      SeriesPoint,
      't_s' | 'sent_per_s' | 'acked_per_s' | 'delivered_per_s' | 'ack_p50_ms' | 'ack_p99_ms' | 'deliver_p50_ms' | 'deliver_p99_ms'
    >,
    spanMs = this.intervalMs,
  ): void {
    const i = this.interval;
    const perS = 1000 / spanMs;
    this.series.push({
      t_s: round(endMs / 1000),
      sent_per_s: round(i.sent * perS),
      acked_per_s: round(i.acked * perS),
      delivered_per_s: round(i.delivered * perS),
      ack_p50_ms: round(i.ack.percentile(50)),
      ack_p99_ms: round(i.ack.percentile(99)),
      deliver_p50_ms: round(i.deliver.percentile(50)),
      deliver_p99_ms: round(i.deliver.percentile(99)),
      errors_per_s: round(i.errors * perS),
      ...depths,
    });
    this.interval = this.freshInterval();
  }

  latency(): { ack: Percentiles; deliver: Percentiles } {
    return {
      ack: percentilesOfHdr(this.ackHdr, this.ackMax, this.ackCount),
      deliver: percentilesOfHdr(this.deliverHdr, this.deliverMax, this.deliverCount),
    };
  }

  /**
   * The run-wide histograms as they go into the summary file, so that runs of independent cells
   * can be merged exactly (simulator/cells/merge-cells.ts): HDR histograms compressed to base64
   * with their exact max (ms) and count, and the presence-staleness bins.
   */
  histograms(): RunHistograms {
    return {
      ack: { hdr_base64: hdr.encodeIntoCompressedBase64(this.ackHdr), max_ms: this.ackMax, count: this.ackCount },
      deliver: { hdr_base64: hdr.encodeIntoCompressedBase64(this.deliverHdr), max_ms: this.deliverMax, count: this.deliverCount },
      presence_staleness: this.presenceStalenessMs.toJson(),
    };
  }

  destroy(): void {
    this.ackHdr.destroy();
    this.deliverHdr.destroy();
  }

  // ---------- the core's Metrics port ----------

  connectionOpened(): void {
    this.connectionsOpened++;
  }
  connectionClosed(): void {}
  frameIn(): void {}
  frameOut(): void {}
  messageAccepted(kind: 'message' | 'membership'): void {
    if (kind === 'message') this.accepted++;
  }
  messageDelivered(): void {}
  fanout(recipientDevices: number): void {
    this.fanoutDevices += recipientDevices;
    this.fanoutEvents++;
  }
  inboxDrained(): void {}
  pushSent(): void {
    this.pushes++;
  }
  error(code: ErrorCode): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    this.interval.errors++;
  }
  walState(): void {}
  walAppended(): void {
    this.walAppends++;
  }
  walReplayed(outcome: 'stored' | 'duplicate' | 'rejected'): void {
    this.walReplays.set(outcome, (this.walReplays.get(outcome) ?? 0) + 1);
  }

  /** The Metrics port of one gateway: everything counted here, plus its own WAL depth. */
  forGateway(nodeId: string): Metrics {
    return {
      connectionOpened: () => this.connectionOpened(),
      connectionClosed: () => this.connectionClosed(),
      frameIn: () => this.frameIn(),
      frameOut: () => this.frameOut(),
      messageAccepted: (kind) => this.messageAccepted(kind),
      messageDelivered: () => this.messageDelivered(),
      fanout: (n) => this.fanout(n),
      inboxDrained: () => this.inboxDrained(),
      pushSent: () => this.pushSent(),
      error: (code) => this.error(code),
      walState: (depth) => this.walStateOf(nodeId, depth),
      walAppended: () => this.walAppended(),
      walReplayed: (outcome) => this.walReplayed(outcome),
    };
  }

  walAppends = 0;
  readonly walReplays = new Map<string, number>();
  readonly walDepthByNode = new Map<string, number>();
  /** Most entries waiting in all gateways' logs together at any moment. */
  walDepthPeak = 0;

  private walStateOf(nodeId: string, depth: number): void {
    this.walDepthByNode.set(nodeId, depth);
    this.walDepthPeak = Math.max(this.walDepthPeak, this.walDepth() ?? 0);
  }

  /** Entries waiting in every gateway's write-ahead log (null when no gateway has one). */
  walDepth(): number | null {
    if (this.walDepthByNode.size === 0) return null;
    let total = 0;
    for (const d of this.walDepthByNode.values()) total += d;
    return total;
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

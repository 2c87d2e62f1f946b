import * as hdr from 'hdr-histogram-js';

export interface LoadResult {
  target: string;
  scheduled: number;
  sent: number;
  /** Every measured delivery that arrived, the settle time after the window included. */
  delivered: number;
  /** Arrivals inside the measuring window, per second: a system that falls behind shows it here. */
  deliveredPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; p999: number; max: number };
}

export interface OpenModelOptions {
  target: string;
  /** Messages per second, sent on schedule whatever happened to earlier ones. */
  ratePerSecond: number;
  durationMs: number;
  /** Load at the same rate before measuring, so JIT warm-up does not count (default 2000). */
  warmupMs?: number;
  /** How long to wait for stragglers after the last scheduled send (default 3000). */
  settleMs?: number;
  /** Deliveries each measured send should produce (1 for 1:1, members − 1 for a group). */
  deliveriesPerSend: number;
  /** Called once, when the warm-up sends are out and the measured ones begin. */
  onMeasureStart?: () => void;
}

/**
 * The measuring half of every load benchmark: an open-model schedule (no coordinated omission:
 * latency runs from the scheduled send time) with warm-up, an HDR histogram of send→deliver, and
 * throughput counted inside the measuring window. The caller connects clients, sends message n
 * when told to, and reports each delivery with the send time it carried.
 */
export class OpenModelMeter {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  private delivered = 0;
  private deliveredInWindow = 0;
  private measureFromMs = Infinity;

  constructor(private readonly options: OpenModelOptions) {}

  /** Call for every delivery; sends made during the warm-up are neither counted nor timed. */
  readonly onDelivered = (sentAtMs: number): void => {
    if (sentAtMs < this.measureFromMs) return;
    const now = performance.now();
    this.delivered++;
    if (now <= this.measureFromMs + this.options.durationMs) this.deliveredInWindow++;
    this.histogram.recordValue(Math.max(1, Math.round((now - sentAtMs) * 1000)));
  };

  /** Runs the schedule, calling `send(n, scheduledAtMs)` for each message when it is due; then settles. */
  async run(send: (n: number, scheduledAtMs: number) => void): Promise<LoadResult> {
    const { ratePerSecond, durationMs } = this.options;
    const intervalMs = 1000 / ratePerSecond;
    const warmupCount = Math.floor((this.options.warmupMs ?? 2_000) / intervalMs);
    const scheduled = warmupCount + Math.floor(durationMs / intervalMs);
    const startMs = performance.now();
    this.measureFromMs = startMs + warmupCount * intervalMs;
    let sent = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = Math.min(scheduled, Math.floor((performance.now() - startMs) / intervalMs) + 1);
        for (; sent < due; sent++) {
          if (sent === warmupCount) this.options.onMeasureStart?.();
          send(sent, startMs + sent * intervalMs);
        }
        if (sent >= scheduled) resolve();
        else setTimeout(tick, 1);
      };
      tick();
    });
    const measured = sent - warmupCount;
    const expected = measured * this.options.deliveriesPerSend;
    const settleUntil = performance.now() + (this.options.settleMs ?? 3_000);
    while (this.delivered < expected && performance.now() < settleUntil) await new Promise((r) => setTimeout(r, 20));
    const ms = (q: number) => this.histogram.getValueAtPercentile(q) / 1000;
    const result: LoadResult = {
      target: this.options.target,
      scheduled: scheduled - warmupCount,
      sent: measured,
      delivered: this.delivered,
      deliveredPerSecond: Math.round(this.deliveredInWindow / (durationMs / 1000)),
      latencyMs: { p50: ms(50), p95: ms(95), p99: ms(99), p999: ms(99.9), max: this.histogram.maxValue / 1000 },
    };
    this.histogram.destroy();
    return result;
  }
}

import type { MeasurementObserver } from './measurements.js';
import { nowEpochMs } from './measurements.js';
import type { TimeSeriesRecorderLike } from './types.js';

/** Forwards the driver's measurements to a TimeSeriesRecorder-like sink, timed from the traffic start. */
export class RecorderObserver implements MeasurementObserver {
  /** Epoch ms of the traffic start; nothing is forwarded before it is set. */
  originMs = Number.NaN;

  constructor(private readonly recorder: TimeSeriesRecorderLike) {}

  private atS(): number | undefined {
    const at = (nowEpochMs() - this.originMs) / 1000;
    return at >= 0 ? at : undefined;
  }

  sent(): void {
    const at = this.atS();
    if (at !== undefined) this.recorder.count('sent', at);
  }
  acked(latencyMs: number | null): void {
    const at = this.atS();
    if (at === undefined) return;
    this.recorder.count('acked', at);
    if (latencyMs !== null) this.recorder.latency('ack', at, latencyMs);
  }
  delivered(_via: 'live' | 'sync', latencyMs: number | null): void {
    const at = this.atS();
    if (at === undefined) return;
    this.recorder.count('delivered', at);
    if (latencyMs !== null) this.recorder.latency('deliver', at, latencyMs);
  }
  receipt(latencyMs: number): void {
    const at = this.atS();
    if (at !== undefined) this.recorder.latency('receipt', at, latencyMs);
  }
  error(_code: string): void {
    const at = this.atS();
    if (at !== undefined) this.recorder.count('errors', at);
  }
  connections(open: number): void {
    const at = this.atS();
    if (at !== undefined) this.recorder.gauge('connections', at, open);
  }
  offered(perS: number): void {
    const at = this.atS();
    if (at !== undefined) this.recorder.gauge(OFFERED_GAUGE, at, perS);
  }
  /** The driver's own health: its event loop's delay (p99 over the last second). A lagging driver sends late and measures late. */
  driverLag(p99Ms: number): void {
    const at = this.atS();
    if (at !== undefined) this.recorder.gauge(DRIVER_LAG_GAUGE, at, p99Ms);
  }
}

export const OFFERED_GAUGE = 'offered msgs/s';
export const DRIVER_LAG_GAUGE = 'driver event-loop lag p99 (ms)';

/** Several observers as one. */
export function fanOut(
  observers: ReadonlyArray<MeasurementObserver & { offered?(perS: number): void }>,
): MeasurementObserver & { offered(perS: number): void } {
  return {
    sent: () => observers.forEach((o) => o.sent()),
    acked: (l) => observers.forEach((o) => o.acked(l)),
    delivered: (v, l) => observers.forEach((o) => o.delivered(v, l)),
    receipt: (l) => observers.forEach((o) => o.receipt(l)),
    error: (c) => observers.forEach((o) => o.error(c)),
    connections: (n) => observers.forEach((o) => o.connections(n)),
    offered: (r) => observers.forEach((o) => o.offered?.(r)),
  };
}

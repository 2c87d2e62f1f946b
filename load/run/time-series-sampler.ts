import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { DeviceFleet } from '../device-fleet.js';
import { nowEpochMs, type LoadMeasurements } from '../measurements.js';
import type { RecorderObserver } from '../recorder-observer.js';
import type { LoadOptions, LoadSample } from '../types.js';
import type { RunPhase } from './run-phase.js';

const SAMPLE_EVERY_MS = 1000;

/** What the sampler reads and where its samples go. */
export interface SamplerInputs {
  readonly measurements: LoadMeasurements;
  readonly fleet: DeviceFleet;
  readonly phase: RunPhase;
  readonly recorderObserver: RecorderObserver | undefined;
  readonly timeSeries: LoadOptions['timeSeries'];
  readonly onProgress: LoadOptions['onProgress'];
  readonly durationS: number;
}

/**
 * One sample per second from the start of the traffic to the end of the settle phase: rates over
 * the last second and the window percentiles, kept for the result, handed to the caller's
 * time-series sink and, as progress, to `onProgress`.
 */
export class TimeSeriesSampler {
  /** Every sample taken, in order. */
  readonly samples: LoadSample[] = [];
  /** The rate the schedule asks for now (the traffic phase sets it; samples outside it say 0). */
  offeredPerS = 0;
  private trafficStartMs = Number.NaN;
  private last = { sent: 0, acked: 0, delivered: 0, errors: 0, refused: 0 };
  private timer: ReturnType<typeof setInterval> | undefined;
  // The driver's own event-loop delay, for the report (only when one is recorded): a saturated
  // driver would make the system look slow.
  private loopDelay: IntervalHistogram | undefined;

  constructor(private readonly inputs: SamplerInputs) {}

  /** Samples every second from now on; times are seconds from `trafficStartMs`. */
  start(trafficStartMs: number): void {
    this.trafficStartMs = trafficStartMs;
    this.loopDelay = this.inputs.recorderObserver ? monitorEventLoopDelay({ resolution: 10 }) : undefined;
    this.loopDelay?.enable();
    this.timer = setInterval(() => this.takeSample(), SAMPLE_EVERY_MS);
  }

  /** The run has settled: one last sample (of the part second since the previous), then no more. */
  finish(): void {
    this.stopTimer();
    this.takeSample();
    this.loopDelay?.disable();
  }

  /** Stops sampling without a last sample (a run torn down by an error); nothing if already finished. */
  stop(): void {
    this.stopTimer();
    this.loopDelay?.disable();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private takeSample(): void {
    const { measurements, fleet, phase, recorderObserver, timeSeries, onProgress, durationS } = this.inputs;
    if (this.loopDelay && recorderObserver) {
      recorderObserver.driverLag(Math.round(this.loopDelay.percentile(99) / 1e4) / 100);
      this.loopDelay.reset();
    }
    const atS = Math.round((nowEpochMs() - this.trafficStartMs) / 100) / 10;
    const now = {
      sent: measurements.sent,
      acked: measurements.acked,
      delivered: measurements.deliveredLive + measurements.deliveredSync,
      errors: measurements.errorCount,
      refused: measurements.refusedCount,
    };
    const last = this.last;
    const point: LoadSample = {
      atS,
      connections: fleet.online.length,
      offeredPerS: phase.current === 'traffic' ? Math.round(this.offeredPerS * 10) / 10 : 0,
      sentPerS: now.sent - last.sent,
      ackedPerS: now.acked - last.acked,
      deliveredPerS: now.delivered - last.delivered,
      errorsPerS: now.errors - last.errors,
      refusedPerS: now.refused - last.refused,
      deliverP50Ms: measurements.deliver.windowPercentile(50),
      deliverP99Ms: measurements.deliver.windowPercentile(99),
      ackP99Ms: measurements.ack.windowPercentile(99),
    };
    this.last = now;
    measurements.resetWindows();
    this.samples.push(point);
    if (timeSeries && 'record' in timeSeries) timeSeries.record(point);
    onProgress?.({
      phase: phase.current,
      elapsedS: atS,
      durationS,
      connections: point.connections,
      devices: fleet.devices.length,
      sent: now.sent,
      acked: now.acked,
      delivered: now.delivered,
      errors: now.errors,
      offeredPerS: point.offeredPerS,
      deliverP99MsWindow: point.deliverP99Ms,
    });
  }
}

import { HistoryRecorder, type HistorySink } from '../../sdk/index.js';
import { DriverMetrics } from '../driver-metrics.js';
import { LoadMeasurements, type MeasurementObserver } from '../measurements.js';
import { DroppingHistorySink } from '../planted-fault.js';
import { RecorderObserver, fanOut } from '../recorder-observer.js';
import { shardLabel } from '../shard.js';
import type { RunSettings } from './run-settings.js';

/** What measures and records the run: the figures, their observers, and the history the checker reads. */
export interface RunInstruments {
  /** The driver's own Prometheus metrics (`--metrics-port`, remote write). */
  readonly metrics: DriverMetrics;
  /** Feeds a per-event time-series recorder (reports'), when the caller passed one. */
  readonly recorderObserver: RecorderObserver | undefined;
  /** Everything that hears of each measurement: the metrics, and the recorder when there is one. */
  readonly observer: MeasurementObserver & { offered(perS: number): void };
  readonly measurements: LoadMeasurements;
  /** The events every client records, checked at the end. */
  readonly recorder: HistoryRecorder;
  /** Test-only: the sink that loses one delivery (`plantDroppedDelivery`). */
  readonly dropper: DroppingHistorySink | undefined;
  /** Where the clients record: the recorder, or the dropper in front of it. */
  readonly history: HistorySink;
}

export function createInstruments(settings: RunSettings): RunInstruments {
  const { scenario, shard, options } = settings;
  const metrics = new DriverMetrics({ shard: shardLabel(shard), scenario: scenario.name });
  const sink = options.timeSeries;
  const recorderObserver = sink && 'latency' in sink ? new RecorderObserver(sink) : undefined;
  const observer = recorderObserver ? fanOut([metrics, recorderObserver]) : metrics;
  const measurements = new LoadMeasurements(observer);
  const recorder = new HistoryRecorder();
  const dropper = options.plantDroppedDelivery ? new DroppingHistorySink(recorder, options.plantDroppedDelivery) : undefined;
  const history: HistorySink = dropper ?? recorder;
  return { metrics, recorderObserver, observer, measurements, recorder, dropper, history };
}

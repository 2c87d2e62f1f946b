import * as hdr from 'hdr-histogram-js';
import { ReportErrorCodes } from './report-error-codes.js';
import type { ChartPoint, ChartSeries, ChartThreshold, ReportChart } from './report-input.js';
import { ToolError } from '../cli/tool-error.js';

/*
 * Per-interval figures for the report's charts, recorded cheaply while a run goes on:
 *   count   → a rate per second per bucket (throughput over time)
 *   latency → percentiles per bucket from a small HDR histogram (latency over time)
 *   gauge   → the last and the largest value per bucket (queue depths, connections over time)
 * Memory is bounded: there are never more than `bucketsMax` buckets per metric. When a run
 * outgrows them, neighbouring buckets merge pairwise and the interval doubles (a one-hour run at
 * 1 s buckets and bucketsMax 360 ends with 16 s buckets), so a long run costs no more than a short one.
 */

export interface TimeSeriesRecorderOptions {
  /** Width of a bucket at the start, in seconds (default 1). */
  intervalS?: number;
  /** Most buckets kept per metric (default 360: about one per two pixels of chart width). */
  bucketsMax?: number;
  /** Latencies above this are recorded as this (default 600 000 ms = 10 minutes). */
  latencyMsMax?: number;
}

export const TIME_SERIES_DEFAULTS = Object.freeze({ intervalS: 1, bucketsMax: 360, latencyMsMax: 600_000 });

/**
 * A last bucket that ran for less than this share of an interval is folded into the one before:
 * a handful of counts over a few milliseconds is not a rate, and drawn as one it flattens the chart.
 */
export const PARTIAL_BUCKET_SHARE_MIN = 0.25;

export interface RecorderChartOptions {
  /**
   * The run's end (seconds): the last bucket's rate is divided by the part of it that ran. Counts
   * recorded later than this (deliveries landing while a run settles) move the end to the latest
   * of them, so a bucket's rate is never its count over a sliver of time it did not cover.
   * Default: whole buckets.
   */
  untilS?: number;
  /** Latency percentiles to draw (default [50, 99]). */
  percentiles?: number[];
  /** Reference lines per latency metric (e.g. `{ deliver: [{ label: 'SLO p99 < 200 ms', value: 200 }] }`). */
  latencyThresholds?: Record<string, ChartThreshold[]>;
  /** Counters drawn on a chart of their own instead of the throughput chart (errors: a few per second vanish beside thousands). */
  ownChartCounters?: string[];
  /** Which gauge figure to draw (default 'last'). */
  gaugeStat?: 'last' | 'max';
}

type Histogram = ReturnType<typeof hdr.build>;

interface GaugeBucket {
  last: number;
  lastAtS: number;
  max: number;
}

function checkTime(atS: number): void {
  if (!Number.isFinite(atS) || atS < 0) {
    throw new ToolError(ReportErrorCodes.BAD_TIME, `time must be a finite number of seconds >= 0, got ${atS}`);
  }
}

function checkValue(name: string, value: number, nonNegative: boolean): void {
  if (!Number.isFinite(value) || (nonNegative && value < 0)) {
    throw new ToolError(ReportErrorCodes.BAD_VALUE, `${name}: value must be a finite number${nonNegative ? ' >= 0' : ''}, got ${value}`);
  }
}

export class TimeSeriesRecorder {
  private interval: number;
  private readonly bucketsMax: number;
  private readonly latencyUsMax: number;
  private readonly counters = new Map<string, number[]>();
  private readonly latencies = new Map<string, Array<Histogram | undefined>>();
  private readonly gauges = new Map<string, Array<GaugeBucket | undefined>>();
  /** Highest bucket index written so far (-1: nothing yet). */
  private lastIndex = -1;
  /** Latest time a count was recorded at (seconds; -1: none yet). */
  private lastCountAtS = -1;

  constructor(options: TimeSeriesRecorderOptions = {}) {
    this.interval = options.intervalS ?? TIME_SERIES_DEFAULTS.intervalS;
    this.bucketsMax = options.bucketsMax ?? TIME_SERIES_DEFAULTS.bucketsMax;
    const latencyMsMax = options.latencyMsMax ?? TIME_SERIES_DEFAULTS.latencyMsMax;
    if (!(this.interval > 0) || !Number.isFinite(this.interval)) {
      throw new ToolError(ReportErrorCodes.BAD_OPTION, `intervalS must be a positive number, got ${options.intervalS}`);
    }
    if (!Number.isInteger(this.bucketsMax) || this.bucketsMax < 2) {
      throw new ToolError(ReportErrorCodes.BAD_OPTION, `bucketsMax must be an integer >= 2, got ${options.bucketsMax}`);
    }
    if (!(latencyMsMax >= 1) || !Number.isFinite(latencyMsMax)) {
      throw new ToolError(ReportErrorCodes.BAD_OPTION, `latencyMsMax must be a number >= 1, got ${options.latencyMsMax}`);
    }
    this.latencyUsMax = Math.round(latencyMsMax * 1000);
  }

  /** Current bucket width in seconds (doubles each time the run outgrows bucketsMax). */
  get intervalS(): number {
    return this.interval;
  }

  /** Names recorded so far, by kind. */
  names(): { counters: string[]; latencies: string[]; gauges: string[] } {
    return { counters: [...this.counters.keys()], latencies: [...this.latencies.keys()], gauges: [...this.gauges.keys()] };
  }

  /** Counts `n` occurrences (sends, deliveries, errors) at a time; charts show them per second. */
  count(name: string, atS: number, n = 1): void {
    checkValue(name, n, true);
    const i = this.indexOf(atS);
    if (atS > this.lastCountAtS) this.lastCountAtS = atS;
    let buckets = this.counters.get(name);
    if (!buckets) this.counters.set(name, (buckets = []));
    buckets[i] = (buckets[i] ?? 0) + n;
  }

  /** Records one latency sample (milliseconds, fractions allowed) at a time. */
  latency(name: string, atS: number, valueMs: number): void {
    checkValue(name, valueMs, true);
    const i = this.indexOf(atS);
    let buckets = this.latencies.get(name);
    if (!buckets) this.latencies.set(name, (buckets = []));
    let histogram = buckets[i];
    if (!histogram) buckets[i] = histogram = this.newHistogram();
    histogram.recordValue(Math.min(this.latencyUsMax, Math.max(1, Math.round(valueMs * 1000))));
  }

  /** Records a level (queue depth, open connections) at a time: the chart shows the bucket's last or largest. */
  gauge(name: string, atS: number, value: number): void {
    checkValue(name, value, false);
    const i = this.indexOf(atS);
    let buckets = this.gauges.get(name);
    if (!buckets) this.gauges.set(name, (buckets = []));
    const b = buckets[i];
    if (!b) buckets[i] = { last: value, lastAtS: atS, max: value };
    else {
      if (atS >= b.lastAtS) {
        b.last = value;
        b.lastAtS = atS;
      }
      if (value > b.max) b.max = value;
    }
  }

  /**
   * Per-second rate of a counter in each bucket, x = the bucket's middle; buckets with no counts
   * are 0 (not gaps). With `untilS`, the series spans the run up to its end (see
   * RecorderChartOptions.untilS): a last bucket that ran for part of an interval is divided by that
   * part, or, when the part is under PARTIAL_BUCKET_SHARE_MIN, folded into the bucket before.
   */
  rateSeries(name: string, options: Pick<RecorderChartOptions, 'untilS'> = {}): ChartSeries {
    const buckets = this.counters.get(name) ?? [];
    if (options.untilS === undefined) {
      const points: ChartPoint[] = [];
      for (let i = 0; i <= this.lastIndex; i++) points.push([this.midpointS(i), (buckets[i] ?? 0) / this.interval]);
      return { name, points };
    }
    const endS = Math.max(options.untilS, this.lastCountAtS);
    const bucketCount = Math.min(this.bucketsMax, Math.max(0, Math.ceil(endS / this.interval)));
    const counts = Array.from({ length: bucketCount }, (_, i) => buckets[i] ?? 0);
    const spansS = counts.map((_, i) => Math.min(this.interval, endS - i * this.interval));
    const last = bucketCount - 1;
    if (last > 0 && spansS[last]! < this.interval * PARTIAL_BUCKET_SHARE_MIN) {
      counts[last - 1] = counts[last - 1]! + counts[last]!;
      spansS[last - 1] = spansS[last - 1]! + spansS[last]!;
      counts.pop();
      spansS.pop();
    }
    const points: ChartPoint[] = counts.map((count, i) => [this.midpointS(i), spansS[i]! > 0 ? count / spansS[i]! : null]);
    return { name, points };
  }

  /** A latency percentile (0–100) per bucket in ms; buckets without samples are gaps. */
  latencySeries(name: string, percentile: number, seriesName = `${name} p${percentile}`): ChartSeries {
    if (!(percentile >= 0 && percentile <= 100)) {
      throw new ToolError(ReportErrorCodes.BAD_OPTION, `percentile must be within 0..100, got ${percentile}`);
    }
    const buckets = this.latencies.get(name) ?? [];
    const points: ChartPoint[] = [];
    for (let i = 0; i <= this.lastIndex; i++) {
      const h = buckets[i];
      points.push([this.midpointS(i), h && h.totalCount > 0 ? h.getValueAtPercentile(percentile) / 1000 : null]);
    }
    return { name: seriesName, points };
  }

  /** Samples in each bucket of a latency metric (how many messages the percentiles stand on). */
  latencyCountSeries(name: string): ChartSeries {
    const buckets = this.latencies.get(name) ?? [];
    const points: ChartPoint[] = [];
    for (let i = 0; i <= this.lastIndex; i++) points.push([this.midpointS(i), buckets[i]?.totalCount ?? 0]);
    return { name: `${name} samples`, points };
  }

  /** A gauge's last or largest value per bucket; buckets without a sample are gaps. */
  gaugeSeries(name: string, stat: 'last' | 'max' = 'last'): ChartSeries {
    const buckets = this.gauges.get(name) ?? [];
    const points: ChartPoint[] = [];
    for (let i = 0; i <= this.lastIndex; i++) {
      const b = buckets[i];
      points.push([this.midpointS(i), b ? b[stat] : null]);
    }
    return { name, points };
  }

  /**
   * The standard charts: one "throughput" chart with every counter as a rate, one latency chart
   * per latency metric (log y, the chosen percentiles, its thresholds), one chart per gauge (each
   * gauge has its own unit: connections and msgs/s do not share an axis).
   * Kinds with nothing recorded are left out. Build charts by hand from the *Series methods for other groupings.
   */
  charts(options: RecorderChartOptions = {}): ReportChart[] {
    const charts: ReportChart[] = [];
    const apart = new Set(options.ownChartCounters ?? []);
    const together = [...this.counters.keys()].filter((n) => !apart.has(n));
    if (together.length > 0) charts.push({ title: 'Throughput', unit: 'per s', series: together.map((n) => this.rateSeries(n, options)) });
    for (const name of [...this.counters.keys()].filter((n) => apart.has(n))) {
      charts.push({ title: name, unit: 'per s', area: true, series: [this.rateSeries(name, options)] });
    }
    for (const name of this.latencies.keys()) {
      const percentiles = options.percentiles ?? [50, 99];
      const thresholds = options.latencyThresholds?.[name];
      charts.push({
        title: `${name} latency`,
        unit: 'ms',
        yLog: true,
        series: percentiles.map((p) => this.latencySeries(name, p)),
        ...(thresholds ? { thresholds } : {}),
      });
    }
    for (const name of this.gauges.keys()) {
      charts.push({
        title: name,
        unit: options.gaugeStat === 'max' ? 'max per interval' : 'last per interval',
        area: true,
        series: [this.gaugeSeries(name, options.gaugeStat ?? 'last')],
      });
    }
    return charts;
  }

  /** Series points sit in the middle of their bucket, so a drop during [20, 21) is drawn at 20.5, inside a fault band starting at 20. */
  private midpointS(index: number): number {
    return (index + 0.5) * this.interval;
  }

  private newHistogram(): Histogram {
    // 32-bit counts record ~3× faster than packed ones and answer percentiles ~30× faster (measured:
    // docs/benchmarks.md), at ~13 KB per bucket that has samples; 2 significant digits are plenty for a chart.
    return hdr.build({
      bitBucketSize: 32,
      lowestDiscernibleValue: 1,
      highestTrackableValue: this.latencyUsMax,
      numberOfSignificantValueDigits: 2,
    });
  }

  private indexOf(atS: number): number {
    checkTime(atS);
    let i = Math.floor(atS / this.interval);
    while (i >= this.bucketsMax) {
      this.mergePairs();
      i = Math.floor(atS / this.interval);
    }
    if (i > this.lastIndex) this.lastIndex = i;
    return i;
  }

  /** Halves the resolution: bucket k of the new layout holds old buckets 2k and 2k+1. */
  private mergePairs(): void {
    const merge = <T>(buckets: Array<T | undefined>, combine: (a: T, b: T) => T): Array<T | undefined> => {
      const out: Array<T | undefined> = [];
      for (let k = 0; 2 * k < buckets.length; k++) {
        const a = buckets[2 * k];
        const b = buckets[2 * k + 1];
        out[k] = a === undefined ? b : b === undefined ? a : combine(a, b);
      }
      return out;
    };
    for (const [name, buckets] of this.counters) this.counters.set(name, merge(buckets, (a, b) => a + b) as number[]);
    for (const [name, buckets] of this.latencies) {
      this.latencies.set(
        name,
        merge(buckets, (a, b) => {
          a.add(b);
          return a;
        }),
      );
    }
    for (const [name, buckets] of this.gauges) {
      this.gauges.set(
        name,
        merge(buckets, (a, b) => ({
          last: b.lastAtS >= a.lastAtS ? b.last : a.last,
          lastAtS: Math.max(a.lastAtS, b.lastAtS),
          max: Math.max(a.max, b.max),
        })),
      );
    }
    this.interval *= 2;
    this.lastIndex = this.lastIndex < 0 ? -1 : Math.floor(this.lastIndex / 2);
  }
}

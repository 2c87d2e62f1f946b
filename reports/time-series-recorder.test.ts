import { describe, expect, it } from 'vitest';
import { ReportErrorCodes } from './report-error-codes.js';
import { renderHtmlReport } from './render-html-report.js';
import { sloLatencyThresholds } from './slo-thresholds.js';
import { TimeSeriesRecorder } from './time-series-recorder.js';
import { ToolError } from '../cli/tool-error.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof ToolError ? error.code : `not a ToolError: ${String(error)}`;
  }
  return undefined;
}

describe('TimeSeriesRecorder', () => {
  it('turns counts into per-second rates per bucket (x = bucket middle), empty buckets as 0', () => {
    const r = new TimeSeriesRecorder();
    for (let k = 0; k < 10; k++) r.count('sent', 0.05 + k * 0.09);
    r.count('sent', 1.5, 20);
    r.count('sent', 3.99, 5);
    expect(r.rateSeries('sent').points).toEqual([
      [0.5, 10],
      [1.5, 20],
      [2.5, 0],
      [3.5, 5],
    ]);
  });

  it('divides by the interval, and by the part of the last bucket that ran when untilS is given', () => {
    const r = new TimeSeriesRecorder({ intervalS: 2 });
    r.count('sent', 0.5, 10);
    r.count('sent', 2.1, 4);
    r.count('sent', 4.2, 3);
    expect(r.rateSeries('sent').points).toEqual([
      [1, 5],
      [3, 2],
      [5, 1.5],
    ]);
    // The run ended at 4.5 s: the last bucket ran for half a second.
    expect(r.rateSeries('sent', { untilS: 4.5 }).points).toEqual([
      [1, 5],
      [3, 2],
      [5, 6],
    ]);
    // A counter never touched still spans the run, at 0.
    expect(r.rateSeries('errors', { untilS: 4.5 }).points).toEqual([
      [1, 0],
      [3, 0],
      [5, 0],
    ]);
  });

  it('spans deliveries that land after the traffic ends instead of dividing them by a sliver of a second', () => {
    // A load run: 55 deliveries/s for 6 s of traffic that ends at 6.02 s; the settle phase's
    // deliveries land until 6.6 s. The report used to pass the traffic end (6.02 s) and draw
    // the last bucket as its count over 0.02 s (~2,000/s against ~55/s real).
    const r = new TimeSeriesRecorder();
    for (let s = 0; s < 6; s++) for (let k = 0; k < 55; k++) r.count('delivered', s + k / 55);
    for (let k = 0; k < 33; k++) r.count('delivered', 6 + (k / 33) * 0.6);
    const points = r.rateSeries('delivered', { untilS: 6.02 }).points;
    expect(points).toHaveLength(7);
    expect(points.slice(0, 6).map(([, y]) => y)).toEqual([55, 55, 55, 55, 55, 55]);
    expect(points[6]![1]).toBeGreaterThan(50);
    expect(points[6]![1]).toBeLessThan(60);
    expect(Math.max(...points.map(([, y]) => y ?? 0))).toBeLessThan(60);
  });

  it('folds a last bucket that ran for under a quarter of an interval into the one before', () => {
    const r = new TimeSeriesRecorder();
    for (let s = 0; s < 3; s++) for (let k = 0; k < 10; k++) r.count('sent', s + k / 10);
    r.count('sent', 3.01, 1);
    const points = r.rateSeries('sent', { untilS: 3.02 }).points;
    expect(points.map(([x]) => x)).toEqual([0.5, 1.5, 2.5]);
    expect(points[2]![1]).toBeCloseTo(11 / 1.02, 6);
  });

  it('gives latency percentiles per bucket within HDR precision, and gaps where nothing was measured', () => {
    const r = new TimeSeriesRecorder();
    for (let ms = 1; ms <= 100; ms++) r.latency('deliver', 0.5, ms);
    for (let k = 0; k < 10; k++) r.latency('deliver', 2.5, 200);
    const p50 = r.latencySeries('deliver', 50).points;
    const p99 = r.latencySeries('deliver', 99).points;
    expect(p50).toHaveLength(3);
    expect(p50[0]![1]).toBeCloseTo(50, -0.3); // within ±1 ms (2 significant digits)
    expect(p99[0]![1]).toBeCloseTo(99, -0.3);
    expect(p50[1]).toEqual([1.5, null]);
    expect(p99[2]![1]).toBeGreaterThanOrEqual(199);
    expect(p99[2]![1]).toBeLessThanOrEqual(202);
    expect(r.latencyCountSeries('deliver').points).toEqual([
      [0.5, 100],
      [1.5, 0],
      [2.5, 10],
    ]);
  });

  it('keeps sub-millisecond latencies and clamps ones above latencyMsMax', () => {
    const r = new TimeSeriesRecorder({ latencyMsMax: 1000 });
    r.latency('ack', 0, 0.25);
    r.latency('ack', 1, 5000);
    const points = r.latencySeries('ack', 100).points;
    expect(points[0]![1]).toBeCloseTo(0.25, 2);
    expect(points[1]![1]).toBeGreaterThanOrEqual(1000);
    expect(points[1]![1]).toBeLessThan(1011);
  });

  it('keeps the last (by time) and the largest gauge value per bucket', () => {
    const r = new TimeSeriesRecorder();
    r.gauge('inbox depth', 0.1, 5);
    r.gauge('inbox depth', 0.9, 2);
    r.gauge('inbox depth', 0.5, 9); // recorded late, but not the last in time
    r.gauge('inbox depth', 2.2, 7);
    expect(r.gaugeSeries('inbox depth', 'last').points).toEqual([
      [0.5, 2],
      [1.5, null],
      [2.5, 7],
    ]);
    expect(r.gaugeSeries('inbox depth', 'max').points).toEqual([
      [0.5, 9],
      [1.5, null],
      [2.5, 7],
    ]);
  });

  it('stays within bucketsMax by merging neighbours and doubling the interval', () => {
    const r = new TimeSeriesRecorder({ bucketsMax: 4 });
    for (let s = 0; s < 8; s++) {
      r.count('sent', s + 0.5, 10);
      r.latency('deliver', s + 0.5, s < 4 ? 10 : 100);
      r.gauge('depth', s + 0.5, s);
    }
    expect(r.intervalS).toBe(2);
    expect(r.rateSeries('sent').points).toEqual([
      [1, 10],
      [3, 10],
      [5, 10],
      [7, 10],
    ]);
    expect(r.gaugeSeries('depth', 'last').points).toEqual([
      [1, 1],
      [3, 3],
      [5, 5],
      [7, 7],
    ]);
    const p50 = r.latencySeries('deliver', 50).points.map((p) => Math.round(p[1] ?? -1));
    expect(p50).toEqual([10, 10, 100, 100]);
    expect(r.latencyCountSeries('deliver').points.map((p) => p[1])).toEqual([2, 2, 2, 2]);
    // Far beyond: merges again as often as needed, never more than bucketsMax points.
    r.count('sent', 100);
    expect(r.intervalS).toBe(32);
    expect(r.rateSeries('sent').points.length).toBeLessThanOrEqual(4);
    expect(r.rateSeries('sent').points.reduce((sum, [, y]) => sum + (y ?? 0) * r.intervalS, 0)).toBe(81);
  });

  it('builds the standard charts, leaving out kinds with nothing recorded', () => {
    expect(new TimeSeriesRecorder().charts()).toEqual([]);
    const r = new TimeSeriesRecorder();
    r.count('sent', 0.2);
    r.count('delivered', 0.3, 3);
    r.latency('deliver', 0.3, 12);
    const charts = r.charts();
    expect(charts.map((c) => c.title)).toEqual(['Throughput', 'deliver latency']);
    expect(charts[0]!.series.map((s) => s.name)).toEqual(['sent', 'delivered']);
    expect(charts[1]!.series.map((s) => s.name)).toEqual(['deliver p50', 'deliver p99']);
    expect(charts[1]!.yLog).toBe(true);
    const html = renderHtmlReport({ title: 'recorded', charts });
    expect(html).toContain('data-series="deliver p99"');
  });

  it('rejects bad times, values and options with stable codes', () => {
    const r = new TimeSeriesRecorder();
    expect(codeOf(() => r.count('sent', -1))).toBe(ReportErrorCodes.BAD_TIME);
    expect(codeOf(() => r.latency('deliver', Number.NaN, 1))).toBe(ReportErrorCodes.BAD_TIME);
    expect(codeOf(() => r.gauge('depth', Number.POSITIVE_INFINITY, 1))).toBe(ReportErrorCodes.BAD_TIME);
    expect(codeOf(() => r.latency('deliver', 1, -5))).toBe(ReportErrorCodes.BAD_VALUE);
    expect(codeOf(() => r.count('sent', 1, Number.NaN))).toBe(ReportErrorCodes.BAD_VALUE);
    expect(codeOf(() => r.latencySeries('deliver', 101))).toBe(ReportErrorCodes.BAD_OPTION);
    expect(codeOf(() => new TimeSeriesRecorder({ intervalS: 0 }))).toBe(ReportErrorCodes.BAD_OPTION);
    expect(codeOf(() => new TimeSeriesRecorder({ bucketsMax: 1 }))).toBe(ReportErrorCodes.BAD_OPTION);
    expect(codeOf(() => new TimeSeriesRecorder({ latencyMsMax: 0 }))).toBe(ReportErrorCodes.BAD_OPTION);
    // Nothing bad was recorded.
    expect(r.names()).toEqual({ counters: [], latencies: [], gauges: [] });
  });
});

describe('TimeSeriesRecorder charts for a planner', () => {
  it('draws each gauge on its own chart (connections and msgs/s never share an axis) and puts latency thresholds on their metric', () => {
    const r = new TimeSeriesRecorder();
    r.gauge('connections', 0.2, 40);
    r.gauge('offered msgs/s', 0.2, 15);
    r.latency('deliver', 0.3, 12);
    r.latency('ack', 0.3, 9);
    const charts = r.charts({ latencyThresholds: { deliver: [{ label: 'SLO deliver p99 < 200 ms', value: 200 }] } });
    expect(charts.filter((c) => c.series.length === 1 && c.area).map((c) => c.title)).toEqual(['connections', 'offered msgs/s']);
    expect(charts.find((c) => c.title === 'deliver latency')!.thresholds).toEqual([{ label: 'SLO deliver p99 < 200 ms', value: 200 }]);
    expect(charts.find((c) => c.title === 'ack latency')!.thresholds).toBeUndefined();
  });
});

describe('sloLatencyThresholds', () => {
  it('turns the judged latency objectives into reference lines per metric, and ignores the others', () => {
    expect(
      sloLatencyThresholds([
        { name: 'deliver.p99', target: '< 200 ms', actual: 12, passed: true },
        { name: 'ack.p99', target: '< 2000 ms', actual: 30, passed: true },
        { name: 'invariant.violations', target: '<= 0', actual: 0, passed: true },
        { name: 'error.rate', target: '<= 0.001', actual: 0, passed: true },
        { name: 'steady.deliver.p99', target: '< 150 ms', actual: 90, passed: true },
        { name: 'recovery gateway_crash gateway-1 @20s', target: '<= 30 s', actual: 10, passed: true },
      ]),
    ).toEqual({
      deliver: [
        { label: 'SLO deliver p99 < 200 ms', value: 200 },
        { label: 'SLO steady deliver p99 < 150 ms', value: 150 },
      ],
      ack: [{ label: 'SLO ack p99 < 2000 ms', value: 2000 }],
    });
  });
});

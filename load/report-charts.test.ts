import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../checker/run-summary.js';
import { TimeSeriesRecorder } from '../reports/index.js';
import { RecorderObserver } from './recorder-observer.js';
import { loadReportCharts } from './report-charts.js';
import { nowEpochMs } from './measurements.js';

const figures = { p50: 3, p95: 8, p99: 12, p999: 20, max: 25 };
const SUMMARY = {
  kind: 'load',
  slo: { passed: true, objectives: [{ name: 'deliver.p99', target: '< 200 ms', actual: 12, passed: true }] },
  latency_ms: { ack: figures, deliver: figures },
} as unknown as RunSummary;

describe('the load report charts', () => {
  it('put offered beside sent, errors and the driver’s event-loop lag on charts of their own, and the SLO on deliver latency', () => {
    const series = new TimeSeriesRecorder();
    const observer = new RecorderObserver(series);
    observer.originMs = nowEpochMs() - 500;
    observer.offered(15);
    observer.connections(40);
    for (let i = 0; i < 10; i++) observer.sent();
    observer.delivered('live', 12);
    observer.error('RATE_LIMITED');
    observer.driverLag(3.5);
    const charts = loadReportCharts(series, SUMMARY, 1);
    const titles = charts.map((c) => c.title);
    expect(titles).toEqual(
      expect.arrayContaining(['Throughput', 'errors', 'deliver latency', 'connections', 'driver event-loop lag p99 (ms)']),
    );
    expect(titles).not.toContain('offered msgs/s');
    const throughput = charts.find((c) => c.title === 'Throughput')!;
    expect(throughput.series.map((s) => s.name)).toEqual(['offered', 'sent', 'delivered']);
    expect(throughput.series[0]!.points[0]).toEqual([0.5, 15]);
    expect(charts.find((c) => c.title === 'errors')!.series[0]!.points[0]![1]).toBeGreaterThan(0);
    expect(charts.find((c) => c.title === 'deliver latency')!.thresholds).toEqual([{ label: 'SLO deliver p99 < 200 ms', value: 200 }]);
  });
});

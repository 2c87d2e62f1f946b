import type { RunSummary } from '../checker/run-summary.js';
import { sloLatencyThresholds, type ReportChart, type TimeSeriesRecorder } from '../reports/index.js';
import { OFFERED_GAUGE } from './recorder-observer.js';

/**
 * The load report's charts: throughput with the offered rate beside what was sent (a driver that
 * cannot keep up shows as a gap between them), latencies with the SLO lines they were judged by,
 * errors on a chart of their own, and every level (connections, the driver's event-loop lag) on
 * its own axis.
 */
export function loadReportCharts(series: TimeSeriesRecorder, summary: RunSummary, untilS: number): ReportChart[] {
  const charts = series.charts({ untilS, latencyThresholds: sloLatencyThresholds(summary.slo.objectives), ownChartCounters: ['errors'] });
  const throughput = charts.find((c) => c.title === 'Throughput');
  const offered = charts.find((c) => c.title === OFFERED_GAUGE);
  if (!throughput || !offered) return charts;
  throughput.series.unshift({ name: 'offered', points: offered.series[0]!.points });
  return charts.filter((c) => c !== offered);
}

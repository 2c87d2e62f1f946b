import type { ChartThreshold, ReportChart } from '../../reports/index.js';
import type { SeriesPoint } from './collector.js';

/** A server or core busy all the time: the line a utilisation chart is read against. */
const SATURATED: ChartThreshold = { label: 'saturated (1.0)', value: 1 };

/**
 * The simulator report's charts over simulated time. Queues are drawn as each interval's peak,
 * the figure whose run-wide maximum the summary text gives, and every chart has one unit: the
 * gateways' CPU wait (ms) and the tiers' queues (requests) are two charts, not one axis.
 */
export function simCharts(series: readonly SeriesPoint[], latencyThresholds: Record<string, ChartThreshold[]> = {}): ReportChart[] {
  const line = (name: string, pick: (p: SeriesPoint) => number | null) => ({
    name,
    points: series.map((p) => [p.t_s, pick(p)] as [number, number | null]),
  });
  const charts: ReportChart[] = [
    {
      title: 'Latency over simulated time (per interval)',
      unit: 'ms',
      yLog: true,
      series: [
        line('deliver p99', (p) => p.deliver_p99_ms || null),
        line('deliver p50', (p) => p.deliver_p50_ms || null),
        line('ack p99', (p) => p.ack_p99_ms || null),
      ],
      thresholds: [...(latencyThresholds.deliver ?? []), ...(latencyThresholds.ack ?? [])],
    },
    {
      title: 'Throughput',
      unit: 'msgs/s',
      series: [
        line('sent', (p) => p.sent_per_s),
        line('acked', (p) => p.acked_per_s),
        line('delivered (per device)', (p) => p.delivered_per_s),
      ],
    },
    { title: 'Inbox depth (queued deliveries, all devices)', unit: 'events', area: true, series: [line('inbox', (p) => p.inbox_depth)] },
    { title: 'Connected devices', unit: 'devices', area: true, series: [line('online', (p) => p.online_devices)] },
    {
      title: 'Tier queues: most requests waiting for a server (peak per interval)',
      unit: 'requests',
      series: [line('cassandra queue peak', (p) => p.cassandra_queue_peak), line('redis queue peak', (p) => p.redis_queue_peak)],
    },
    {
      title: 'Gateway CPU: longest wait for a core, busiest gateway (peak per interval)',
      unit: 'ms',
      series: [line('CPU wait peak', (p) => p.gateway_cpu_wait_ms_peak)],
    },
  ];
  if (series.some((p) => p.cassandra_utilisation !== undefined)) {
    charts.push({
      title: 'Utilisation: busy share of the servers, per interval',
      unit: 'share',
      series: [
        line('cassandra', (p) => p.cassandra_utilisation ?? null),
        line('redis', (p) => p.redis_utilisation ?? null),
        line('busiest gateway CPU', (p) => p.gateway_cpu_utilisation_max ?? null),
      ],
      thresholds: [SATURATED],
    });
  }
  if (series.some((p) => p.errors_per_s !== undefined)) {
    charts.push({
      title: 'Errors and timeouts',
      unit: 'per s',
      series: [
        line('error frames to devices', (p) => p.errors_per_s ?? null),
        line('cassandra timeouts', (p) => p.cassandra_timeouts_per_s ?? null),
        line('redis timeouts', (p) => p.redis_timeouts_per_s ?? null),
      ],
    });
  }
  const perGateway = series.find((p) => p.connections_per_gateway !== undefined)?.connections_per_gateway?.length ?? 0;
  if (perGateway > 1) {
    charts.push({
      title: 'Connections per gateway',
      unit: 'connections',
      series: Array.from({ length: perGateway }, (_, i) => line(`gateway-${i}`, (p) => p.connections_per_gateway?.[i] ?? null)),
    });
  }
  // A log that never held an entry is one line (the summary says "WAL end 0 peak 0"), not a chart of zeros.
  if (series.some((p) => (p.wal_depth ?? 0) > 0))
    charts.push({ title: 'Write-ahead log depth', unit: 'entries', area: true, series: [line('WAL', (p) => p.wal_depth)] });
  return charts;
}

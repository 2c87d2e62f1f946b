import type { ReportChart } from '../../reports/index.js';
import type { SeriesPoint } from './collector.js';

/**
 * The simulator report's charts over simulated time. Queues are drawn as each interval's peak,
 * the figure whose run-wide maximum the summary text gives, and every chart has one unit: the
 * gateways' CPU wait (ms) and the tiers' queues (requests) are two charts, not one axis.
 */
export function simCharts(series: readonly SeriesPoint[]): ReportChart[] {
  const line = (name: string, pick: (p: SeriesPoint) => number | null) => ({ name, points: series.map((p) => [p.t_s, pick(p)] as [number, number | null]) });
  const charts: ReportChart[] = [
    {
      title: 'Latency over simulated time (per interval)',
      unit: 'ms',
      yLog: true,
      series: [line('deliver p99', (p) => p.deliver_p99_ms || null), line('deliver p50', (p) => p.deliver_p50_ms || null), line('ack p99', (p) => p.ack_p99_ms || null)],
    },
    {
      title: 'Throughput',
      unit: 'msgs/s',
      series: [line('sent', (p) => p.sent_per_s), line('acked', (p) => p.acked_per_s), line('delivered (per device)', (p) => p.delivered_per_s)],
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
  if (series.some((p) => p.wal_depth !== null)) charts.push({ title: 'Write-ahead log depth', unit: 'entries', area: true, series: [line('WAL', (p) => p.wal_depth)] });
  return charts;
}

import { writeHtmlReport, type ReportChart, type ReportTable } from '../../reports/index.js';
import { capacityComparisonTable, type CapacityComparison } from '../capacity/index.js';
import type { SimResult } from '../run-simulation.js';
import type { SeriesPoint } from './collector.js';

/** Writes the self-contained HTML report of a run: latency, throughput and depths over simulated time, faults marked. */
export async function writeSimHtml(path: string, result: Pick<SimResult, 'series' | 'summary' | 'exitCode' | 'notes' | 'reproduce'>, capacity?: CapacityComparison): Promise<void> {
  const s = result.series;
  const line = (name: string, pick: (p: SeriesPoint) => number | null) => ({ name, points: s.map((p) => [p.t_s, pick(p)] as [number, number | null]) });
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
      title: 'Queues: busiest gateway CPU backlog and tier queues',
      unit: 'ms / requests',
      series: [line('gateway backlog ms', (p) => p.gateway_backlog_ms_max), line('cassandra queue', (p) => p.cassandra_queue), line('redis queue', (p) => p.redis_queue)],
    },
  ];
  if (s.some((p) => p.wal_depth !== null)) charts.push({ title: 'Write-ahead log depth', unit: 'entries', area: true, series: [line('WAL', (p) => p.wal_depth)] });
  const sum = result.summary as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const tables: ReportTable[] = [
    {
      title: 'Simulator',
      columns: ['figure', 'value'],
      rows: [
        ['simulated seconds', sum.sim.simulated_s],
        ['events', sum.sim.events],
        ['events per wall second', sum.sim.events_per_s],
        ['simulated ÷ wall time', sum.sim.simulated_per_wall],
        ['heap peak (MiB)', Math.round(sum.sim.heap_bytes_peak / 2 ** 20)],
        ['bytes per virtual user', sum.sim.bytes_per_user],
        ['trace hash', sum.sim.trace_hash],
        ['fan-out amplification', sum.fanout.amplification],
        ['presence staleness p99 (ms)', sum.presence_staleness_ms.p99],
        ['message body bytes stored', sum.storage.message_body_bytes],
        ['media bytes stored', sum.storage.media_bytes],
        ['cassandra utilisation', sum.utilisation.cassandra],
        ['redis utilisation', sum.utilisation.redis],
        ['busiest gateway CPU utilisation', Math.max(...(sum.utilisation.gateways as number[]))],
      ],
    },
  ];
  if (capacity) tables.push(capacityComparisonTable(capacity));
  await writeHtmlReport(path, {
    title: `Simulation: ${result.summary.scenario} (seed ${result.summary.seed})`,
    summary: result.summary,
    exitCode: result.exitCode,
    charts,
    tables,
    notes: [...result.notes, `Reproduce: ${result.reproduce}`],
  });
}

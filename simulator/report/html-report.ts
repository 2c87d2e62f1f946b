import { sloLatencyThresholds, writeHtmlReport, type ReportTable } from '../../reports/index.js';
import { capacityComparisonTable, type CapacityComparison } from '../capacity/index.js';
import type { SimResult } from '../run-simulation.js';
import { cellScopeText, type CellKey } from './cell-scope.js';
import { simCharts } from './sim-charts.js';

/** Writes the self-contained HTML report of a run: latency, throughput and depths over simulated time, faults marked. */
export async function writeSimHtml(
  path: string,
  result: Pick<SimResult, 'series' | 'summary' | 'exitCode' | 'notes' | 'reproduce'>,
  capacity?: CapacityComparison,
): Promise<void> {
  const charts = simCharts(result.series, sloLatencyThresholds(result.summary.slo.objectives));
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
  const cell = sum.cell as CellKey | undefined;
  await writeHtmlReport(path, {
    title: `Simulation: ${result.summary.scenario} (seed ${result.summary.seed})${cell ? ` · a cell of ${cell.users.toLocaleString('en-US')} of ${cell.of_users.toLocaleString('en-US')} users` : ''}`,
    ...(cell ? { scope: cellScopeText(cell) } : {}),
    summary: result.summary,
    exitCode: result.exitCode,
    charts,
    tables,
    notes: [...result.notes, `Reproduce: ${result.reproduce}`],
  });
}

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { sloLatencyThresholds, writeHtmlReport } from '../../reports/index.js';
import type { Drill } from '../format/read-drill.js';
import type { DrillResult } from '../run-drill.js';
import { drillCharts } from './html-charts.js';

/** Writes the drill's summary as JSON (`kind: "chaos"`) and its HTML report, as asked. */
export async function writeDrillOutputs(
  drill: Drill,
  result: DrillResult,
  paths: { json?: string | undefined; html?: string | undefined },
): Promise<void> {
  if (paths.json) {
    await mkdir(dirname(paths.json), { recursive: true });
    await writeFile(paths.json, `${JSON.stringify(result.summary, null, 2)}\n`);
  }
  if (paths.html) {
    await writeHtmlReport(paths.html, {
      title: `Chaos drill · ${drill.name}`,
      summary: result.summary,
      exitCode: result.exitCode,
      ...(result.error ? { error: result.error } : {}),
      charts: drillCharts(result.timeSeries, sloLatencyThresholds(result.summary.slo.objectives)),
      tables: [
        {
          title: 'Faults: how each was injected and how long recovery took',
          columns: ['kind', 'target', 'injected s', 'healed s', 'recovered s', 'time to recover s', 'measured from', 'how'],
          rows: result.faults.map((f) => [
            f.kind,
            f.target,
            f.at_s,
            f.healed_s ?? 'never',
            f.recovered_s ?? 'not recovered',
            f.time_to_recover_s ?? '-',
            f.recovery_measured_from,
            f.error ? `${f.how} (ERROR ${f.error})` : f.how,
          ]),
        },
      ],
      notes: [
        drill.description,
        `Steady-state SLOs are judged on messages first sent outside every fault window (injection to recovery); recovery = delivered throughput within ${Math.round(drill.recovery.throughput_within * 100)}% of the pre-fault level and deliver p99 < ${drill.recovery.deliver_p99_ms} ms for ${drill.recovery.hold_s} s (throughput averaged over ${drill.recovery.window_s} s).`,
        ...((result.summary.topology as string[] | undefined) ?? []),
      ].filter((n) => n !== ''),
    });
  }
}

import type { LoadSample } from '../../load/run-load.js';
import type { ChartPoint, ChartThreshold, ReportChart } from '../../reports/index.js';

/** The drill's per-second samples as report charts; the report draws the fault bands over them. */
export function drillCharts(samples: readonly LoadSample[], latencyThresholds: Record<string, ChartThreshold[]> = {}): ReportChart[] {
  // A sample covers the second that ends at atS: plot it at the second's start, like the reports' recorder.
  const series = (name: string, pick: (s: LoadSample) => number | null) => ({
    name,
    points: samples.map((s): ChartPoint => [Math.max(0, s.atS - 1), pick(s)]),
  });
  return [
    {
      title: 'Throughput',
      unit: 'msgs/s',
      series: [
        series('offered', (s) => s.offeredPerS),
        series('sent', (s) => s.sentPerS),
        series('acked', (s) => s.ackedPerS),
        series('delivered (per device)', (s) => s.deliveredPerS),
      ],
    },
    {
      title: 'Latency',
      unit: 'ms',
      yLog: true,
      series: [
        series('deliver p50', (s) => s.deliverP50Ms),
        series('deliver p99', (s) => s.deliverP99Ms),
        series('ack p99', (s) => s.ackP99Ms),
      ],
      thresholds: [...(latencyThresholds.deliver ?? []), ...(latencyThresholds.ack ?? [])],
    },
    {
      title: 'Errors and refused sends',
      unit: 'per s',
      area: true,
      series: [series('errors', (s) => s.errorsPerS), series('refused, re-sent (OVERLOADED, …)', (s) => s.refusedPerS)],
    },
    { title: 'Connected devices', unit: 'devices', series: [series('connections', (s) => s.connections)] },
  ];
}

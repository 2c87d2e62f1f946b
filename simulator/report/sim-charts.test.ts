import { describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../reports/index.js';
import type { SeriesPoint } from './collector.js';
import { cellScopeText } from './cell-scope.js';
import { simCharts } from './sim-charts.js';

function point(t_s: number, queuePeak: number, cpuWaitMs: number): SeriesPoint {
  return {
    t_s,
    sent_per_s: 10,
    acked_per_s: 10,
    delivered_per_s: 20,
    ack_p50_ms: 5,
    ack_p99_ms: 9,
    deliver_p50_ms: 6,
    deliver_p99_ms: 12,
    online_devices: 100,
    inbox_depth: 0,
    gateway_cpu_wait_ms_peak: cpuWaitMs,
    cassandra_queue_peak: queuePeak,
    redis_queue_peak: 1,
    wal_depth: null,
  };
}

describe('the simulator report charts', () => {
  it('plot each interval’s queue peak, and never put ms and request counts on one axis', () => {
    const charts = simCharts([point(1, 0, 0.5), point(2, 18_250, 2), point(3, 40, 0.7)]);
    const queues = charts.find((c) => c.series.some((s) => s.name.startsWith('cassandra')))!;
    expect(queues.unit).toBe('requests');
    expect(queues.series.find((s) => s.name === 'cassandra queue peak')!.points).toEqual([
      [1, 0],
      [2, 18_250],
      [3, 40],
    ]);
    const cpu = charts.find((c) => c.series.some((s) => s.name.includes('CPU')))!;
    expect(cpu.unit).toBe('ms');
    expect(cpu.series.map((s) => s.name)).toEqual(['CPU wait peak']);
    // No chart mixes units in its name or unit.
    for (const c of charts) expect(c.unit).not.toContain('/ requests');
  });

  it('say in visible text that a cell run is a cell of a larger population, the rest background load', () => {
    const scope = cellScopeText({ users: 20_000, of_users: 1_000_000, background: true });
    expect(scope).toMatch(/^A cell of 20,000 of 1,000,000 users/);
    expect(scope).toContain('the other 980,000 users are background load on every server');
    const html = renderHtmlReport({ title: 'Simulation: peak-hour', scope, charts: simCharts([point(1, 0, 0)]) });
    // Right under the title, not folded away in a <details> block.
    expect(html).toMatch(/<h1>Simulation: peak-hour<\/h1>\n<p class="scope">A cell of 20,000 of 1,000,000 users/);
  });
});

describe('planner figures on the simulator charts', () => {
  it('draw utilisation per interval for Cassandra, Redis and the busiest gateway against the saturation line', () => {
    const charts = simCharts([
      { ...point(1, 0, 0), cassandra_utilisation: 0.2, redis_utilisation: 0.01, gateway_cpu_utilisation_max: 0.5 },
      { ...point(2, 0, 0), cassandra_utilisation: 0.97, redis_utilisation: 0.02, gateway_cpu_utilisation_max: 0.6 },
    ]);
    const utilisation = charts.find((c) => c.title.startsWith('Utilisation'))!;
    expect(utilisation.series.map((s) => [s.name, s.points])).toEqual([
      [
        'cassandra',
        [
          [1, 0.2],
          [2, 0.97],
        ],
      ],
      [
        'redis',
        [
          [1, 0.01],
          [2, 0.02],
        ],
      ],
      [
        'busiest gateway CPU',
        [
          [1, 0.5],
          [2, 0.6],
        ],
      ],
    ]);
    expect(utilisation.thresholds).toEqual([{ label: 'saturated (1.0)', value: 1 }]);
  });

  it('put the SLO targets on the latency chart, and leave out a write-ahead log that never held an entry', () => {
    const thresholds = { deliver: [{ label: 'SLO deliver p99 < 200 ms', value: 200 }] };
    const quiet = simCharts(
      [
        { ...point(1, 0, 0), wal_depth: 0 },
        { ...point(2, 0, 0), wal_depth: 0 },
      ],
      thresholds,
    );
    expect(quiet.find((c) => c.title.startsWith('Latency'))!.thresholds).toEqual(thresholds.deliver);
    expect(quiet.some((c) => c.title === 'Write-ahead log depth')).toBe(false);
    const outage = simCharts([
      { ...point(1, 0, 0), wal_depth: 0 },
      { ...point(2, 0, 0), wal_depth: 35 },
    ]);
    expect(outage.find((c) => c.title === 'Write-ahead log depth')!.series[0]!.points).toEqual([
      [1, 0],
      [2, 35],
    ]);
  });
});

describe('the per-gateway breakdown', () => {
  it('draws each gateway’s connections, so a reconnect storm shows where it landed', () => {
    const charts = simCharts([
      { ...point(1, 0, 0), connections_per_gateway: [50, 50, 50] },
      { ...point(2, 0, 0), connections_per_gateway: [0, 75, 75] },
    ]);
    const perGateway = charts.find((c) => c.title === 'Connections per gateway')!;
    expect(perGateway.series.map((s) => [s.name, s.points])).toEqual([
      [
        'gateway-0',
        [
          [1, 50],
          [2, 0],
        ],
      ],
      [
        'gateway-1',
        [
          [1, 50],
          [2, 75],
        ],
      ],
      [
        'gateway-2',
        [
          [1, 50],
          [2, 75],
        ],
      ],
    ]);
    expect(simCharts([{ ...point(1, 0, 0), connections_per_gateway: [10] }]).some((c) => c.title === 'Connections per gateway')).toBe(
      false,
    );
  });
});

describe('errors over time', () => {
  it('draws error frames and tier timeouts per second on one chart', () => {
    const charts = simCharts([
      { ...point(1, 0, 0), errors_per_s: 0, cassandra_timeouts_per_s: 0, redis_timeouts_per_s: 0 },
      { ...point(2, 0, 0), errors_per_s: 3.5, cassandra_timeouts_per_s: 12, redis_timeouts_per_s: 0 },
    ]);
    const errors = charts.find((c) => c.title === 'Errors and timeouts')!;
    expect(errors.series.map((s) => [s.name, s.points[1]![1]])).toEqual([
      ['error frames to devices', 3.5],
      ['cassandra timeouts', 12],
      ['redis timeouts', 0],
    ]);
  });
});

/**
 * `--out prometheus-remote-write=URL` against a real Prometheus (Debian's 2.42, remote-write
 * receiver on), a private one so the shared instance's data stay apart: what the driver pushes is
 * queryable under the same names and labels /metrics shows, counters and histograms included, and
 * a dead endpoint is counted and logged without failing anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivatePrometheus, type PrivatePrometheus } from '../infra/local/private-prometheus.js';
import { DriverMetrics } from './driver-metrics.js';
import { queryPrometheus } from './prometheus-slo.js';
import { RemoteWritePusher } from './remote-write.js';

const RUN_ID = `rw-${Date.now().toString(36)}`;

describe('remote write to a real Prometheus', () => {
  let prometheus: PrivatePrometheus;
  beforeAll(async () => {
    prometheus = await startPrivatePrometheus({ name: 'remote-write-test', scrapeTargets: [] });
  }, 120_000);
  afterAll(async () => {
    await prometheus?.stop();
  }, 30_000);

  it('pushes during the run and once more at the end; Prometheus answers with the final values', async () => {
    const metrics = new DriverMetrics({ shard: '0/1', scenario: 'remote-write-test' });
    const lines: string[] = [];
    const pusher = new RemoteWritePusher(metrics.registry, {
      url: `${prometheus.url}/api/v1/write`,
      intervalMs: 200,
      labels: { run_id: RUN_ID },
      log: (l) => lines.push(l),
    });
    pusher.start();
    for (let i = 0; i < 3; i++) metrics.sent();
    metrics.acked(12);
    metrics.delivered('live', 30);
    metrics.delivered('sync', null);
    metrics.error('media:MEDIA_TOO_LARGE');
    metrics.connections(7);
    await new Promise((resolve) => setTimeout(resolve, 500));
    metrics.sent();
    const stats = await pusher.stop();

    expect(stats.failures, stats.lastError).toBe(0);
    expect(stats.pushes).toBeGreaterThanOrEqual(2);
    expect(lines.at(-1)).toMatch(/remote write to .*: \d+ push\(es\), 0 failed/);
    const selector = `{run_id="${RUN_ID}", shard="0/1", scenario="remote-write-test"}`;
    expect(await queryPrometheus(prometheus.url, `load_messages_sent_total${selector}`)).toBe(4);
    expect(await queryPrometheus(prometheus.url, `load_deliveries_total{run_id="${RUN_ID}", via="sync"}`)).toBe(1);
    expect(await queryPrometheus(prometheus.url, `load_errors_total{run_id="${RUN_ID}", code="media:MEDIA_TOO_LARGE"}`)).toBe(1);
    expect(await queryPrometheus(prometheus.url, `load_connections${selector}`)).toBe(7);
    // Histogram buckets arrive with `le` spelled as the text format spells it.
    expect(await queryPrometheus(prometheus.url, `load_deliver_latency_seconds_bucket{run_id="${RUN_ID}", le="0.05"}`)).toBe(1);
    expect(await queryPrometheus(prometheus.url, `load_deliver_latency_seconds_bucket{run_id="${RUN_ID}", le="+Inf"}`)).toBe(1);
    expect(await queryPrometheus(prometheus.url, `load_ack_latency_seconds_count{run_id="${RUN_ID}"}`)).toBe(1);
    // The driver's process metrics go along.
    expect(await queryPrometheus(prometheus.url, `count(load_driver_process_cpu_user_seconds_total{run_id="${RUN_ID}"})`)).toBe(1);
  }, 30_000);

  it('counts and logs a push the endpoint refuses, and never throws', async () => {
    const metrics = new DriverMetrics({ shard: '0/1', scenario: 'remote-write-test' });
    const lines: string[] = [];
    // The query API is no write endpoint: Prometheus answers 4xx/405.
    const refused = new RemoteWritePusher(metrics.registry, { url: `${prometheus.url}/api/v1/query`, log: (l) => lines.push(l) });
    const stats = await refused.stop();
    expect(stats).toMatchObject({ pushes: 1, failures: 1 });
    expect(lines[0]).toMatch(/remote write to .* failed: 4\d\d/);

    const unreachable = new RemoteWritePusher(metrics.registry, { url: 'http://127.0.0.1:9/api/v1/write', log: () => undefined });
    await unreachable.pushNow();
    await unreachable.pushNow();
    expect(await unreachable.stop()).toMatchObject({ pushes: 3, failures: 3 });
  }, 30_000);
});

/**
 * Every panel query of every generated dashboard, evaluated by a real Prometheus (Debian's 2.42,
 * a private one scraping every second) against a real gateway after traffic that moves every
 * metric family — and the load driver's own metrics, pushed by a short `npm run load`-style run
 * through `--out prometheus-remote-write`. Each query must return data (a finite value), and must
 * read only metrics that the gateway or the driver export (or Prometheus' own `up`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivatePrometheus, type PrivatePrometheus } from '../../infra/local/private-prometheus.js';
import { DriverMetrics } from '../../load/driver-metrics.js';
import { runLoad } from '../../load/run-load.js';
import { parseScenarioText } from '../../scenarios/format/index.js';
import { DASHBOARD_FILES } from './dashboard-files.js';
import { driveEveryMetricFamily, startOutageGateway, type OutageGateway } from './every-metric-traffic.js';
import { panelQueries } from './panel-queries.js';
import { metricNamesOf } from './promql-metric-names.js';

const RUN = Date.now().toString(36);
/** Media above this is refused (MEDIA_TOO_LARGE), so the driver's run has errors to show too. */
const MEDIA_BYTES_MAX = 2_000;
const SCRAPE_INTERVAL_S = 1;

/** A few seconds of every kind of driver traffic; half the media uploads are too large. */
const DRIVER_SCENARIO = `
name: panel-test
seed: 11
duration_s: 3
warmup_s: 0
liveness_bound_s: 15
population:
  users: 12
  devices_per_user: [0.5, 0.5]
  online_share: 0.9
  session_length_s: { kind: exponential, mean: 30 }
traffic:
  messages_per_s: 12
  group_share: 0.3
  media: { share: 0.3, bytes: { kind: lognormal, median: ${MEDIA_BYTES_MAX}, sigma: 1, max: 20000 } }
  reads: { share: 0.5, delay_s: { kind: exponential, mean: 0.5 } }
groups:
  per_user: 0.2
  size: { kind: uniform, min: 3, max: 5 }
`;

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

async function instantQuery(prometheusUrl: string, query: string): Promise<VectorSample[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query })}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
  if (body.status !== 'success') throw new Error(`${query}: ${body.error}`);
  if (body.data?.resultType === 'scalar') return [{ metric: {}, value: body.data.result as [number, string] }];
  return body.data?.result as VectorSample[];
}

async function waitForFirstScrape(prometheusUrl: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await instantQuery(prometheusUrl, 'up{job="app"} == 1')).length === 0) {
    if (Date.now() > deadline) throw new Error(`Prometheus at ${prometheusUrl} did not scrape the gateway within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Names a /metrics page exposes, histograms with their _bucket/_sum/_count series. */
function exposedNames(metricsText: string): Set<string> {
  const names = new Set<string>();
  for (const match of metricsText.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match;
    names.add(name!);
    if (type === 'histogram' || type === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

describe('every dashboard panel on a real Prometheus', () => {
  let gateway: OutageGateway;
  let prometheus: PrivatePrometheus;
  let exported: Set<string>;

  beforeAll(async () => {
    gateway = await startOutageGateway({ mediaBytesMax: MEDIA_BYTES_MAX, walReplayRetryMs: 50, walReplayRetryMaxMs: 200 });
    prometheus = await startPrivatePrometheus({
      name: 'dashboard-panels-test',
      scrapeTargets: [new URL(gateway.server.httpUrl).host],
      scrapeInterval: `${SCRAPE_INTERVAL_S}s`,
    });

    // Traffic before the first scrape would be in the first sample, where rate() cannot see it.
    await waitForFirstScrape(prometheus.url);
    await driveEveryMetricFamily(gateway, RUN);
    const load = await runLoad(parseScenarioText(DRIVER_SCENARIO, 'panel-test'), {
      targets: [gateway.server.wsUrl],
      runId: `panels-${RUN}`,
      remoteWrite: { url: `${prometheus.url}/api/v1/write`, intervalMs: 1_000 },
    });
    expect(load.summary.errors, 'the driver run should have refused media uploads').toMatchObject({
      'media:MEDIA_TOO_LARGE': expect.any(Number),
    });

    // Two more scrapes, so the last counts are in Prometheus before the queries run.
    await new Promise((resolve) => setTimeout(resolve, 2.5 * SCRAPE_INTERVAL_S * 1000));
    const gatewayText = await (await fetch(`${gateway.server.httpUrl}/metrics`)).text();
    const driverText = await new DriverMetrics({ shard: '0/1', scenario: 'names' }).registry.metrics();
    exported = new Set([...exposedNames(gatewayText), ...exposedNames(driverText), 'up']);
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await gateway?.server.close();
  }, 30_000);

  const queries = DASHBOARD_FILES.flatMap(({ build }) => panelQueries(build()));

  it('has queries to check', () => {
    expect(queries.length).toBeGreaterThan(40);
  });

  it.each(queries.map((q) => [`${q.dashboard} · ${q.panel}`, q] as const))('%s', async (_name, query) => {
    for (const name of metricNamesOf(query.expr)) expect(exported, `${query.expr} reads ${name}, which nothing exports`).toContain(name);
    const samples = await instantQuery(prometheus.url, query.runnable);
    expect(samples.length, `no data for ${query.runnable}`).toBeGreaterThan(0);
    const finite = samples.filter((s) => Number.isFinite(Number(s.value[1])));
    expect(finite.length, `only NaN/Inf for ${query.runnable}: ${JSON.stringify(samples)}`).toBeGreaterThan(0);
  });
});

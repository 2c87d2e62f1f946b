import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceEnv } from '../infra/local/services-api.js';
import { prometheusObjectives, PrometheusQueryError, promqlFor, queryPrometheus } from './prometheus-slo.js';

/** A tiny stand-in for Prometheus' HTTP API: answers by query text. */
function fakePrometheus(answers: Record<string, unknown>): Promise<{ url: string; server: Server; queries: string[] }> {
  const queries: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = url.searchParams.get('query') ?? '';
    queries.push(query);
    const answer = Object.entries(answers).find(([key]) => query.includes(key))?.[1];
    if (answer === undefined) {
      res.writeHead(400).end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: `parse error in ${query}` }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'success', data: answer }));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, queries }),
    ),
  );
}

describe('PromQL objectives against a fake Prometheus', () => {
  let fake: Awaited<ReturnType<typeof fakePrometheus>>;
  beforeAll(async () => {
    fake = await fakePrometheus({
      'histogram_quantile(0.99': { resultType: 'vector', result: [{ metric: {}, value: [1, '42.5'] }] },
      chat_errors_total: { resultType: 'vector', result: [] },
      'vector(1)': { resultType: 'scalar', result: [1, '1'] },
      'two series': { resultType: 'vector', result: [{ value: [1, '1'] }, { value: [1, '2'] }] },
    });
  });
  afterAll(() => new Promise<void>((resolve) => fake.server.close(() => resolve())));

  it('reads scalars and single-series vectors; an empty vector is no value', async () => {
    expect(await queryPrometheus(fake.url, 'vector(1)')).toBe(1);
    expect(await queryPrometheus(fake.url, promqlFor('deliver.p99', 30)!)).toBe(42.5);
    expect(await queryPrometheus(fake.url, promqlFor('error.rate', 30)!)).toBeNull();
  });

  it('reports query errors, several series and an unreachable server as PrometheusQueryError', async () => {
    await expect(queryPrometheus(fake.url, 'nonsense(')).rejects.toThrow(/parse error/);
    await expect(queryPrometheus(fake.url, 'two series')).rejects.toThrow(/2 series/);
    await expect(queryPrometheus('http://127.0.0.1:9', 'up')).rejects.toBeInstanceOf(PrometheusQueryError);
  });

  it('evaluates the objectives PromQL can answer, beside the driver’s, and fails those without data', async () => {
    const evaluation = await prometheusObjectives(
      fake.url,
      [
        { name: 'deliver.p99', limit: 200 },
        { name: 'ack.p99', limit: 200 },
        { name: 'error.rate', limit: 0.01 },
      ],
      30,
      'job="chat"',
    );
    expect(evaluation.objectives).toEqual([
      { name: 'deliver.p99 (prometheus)', target: '< 200 ms', actual: 42.5, passed: true },
      { name: 'error.rate (prometheus)', target: '<= 0.01', actual: null, passed: false },
    ]);
    expect(fake.queries.some((q) => q.includes('chat_deliver_latency_seconds_bucket{job="chat"}[30s]'))).toBe(true);
  });
});

describe('PromQL against the real local Prometheus', () => {
  // `npm test` starts the services (infra/local/vitest-global-setup.ts); the unit-only run does not.
  const prometheusUrl = process.env.CHAT_TEST_SERVICES === 'none' ? undefined : (process.env.PROMETHEUS_URL ?? serviceEnv().PROMETHEUS_URL);
  it.skipIf(prometheusUrl === undefined)('answers an instant query about itself', async () => {
    const up = await queryPrometheus(prometheusUrl!, 'max(up{job="prometheus"})');
    expect(up).toBe(1);
    // The system's histogram query is valid PromQL there too (no data: no value, no error).
    await expect(queryPrometheus(prometheusUrl!, promqlFor('deliver.p99', 60, 'job="none"')!)).resolves.toBeNull();
  });
});

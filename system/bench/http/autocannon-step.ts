/** One autocannon run of one step against one server, reduced to the figures the table prints. */
import autocannon from 'autocannon';
import type { HttpStep } from './http-steps.js';

export interface StepFigures {
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  requests: number;
  /** Non-2xx answers plus connection errors and timeouts: a step with any is not a clean figure. */
  failures: number;
}

export interface StepLoad {
  connections: number;
  durationS: number;
}

/** Runs the step against `urls`: one per connection, or a single one all connections share. */
export async function runStep(step: Pick<HttpStep, 'method' | 'headers' | 'body'>, urls: readonly string[], load: StepLoad): Promise<StepFigures> {
  const paths = urls.map((url) => {
    const parsed = new URL(url);
    return parsed.pathname + parsed.search;
  });
  let nextConnection = 0;
  const request = { method: step.method, headers: step.headers, ...(step.body ? { body: step.body } : {}) };
  const result = await autocannon({
    url: urls[0]!,
    ...request,
    connections: load.connections,
    duration: load.durationS,
    // autocannon calls this once per connection: each keeps to its own URL.
    ...(paths.length > 1 ? { setupClient: (client) => client.setRequest({ ...request, path: paths[nextConnection++ % paths.length]! }) } : {}),
  });
  const { latency } = result;
  return {
    // Over the whole run: autocannon's requests.average is the mean of per-second samples, which
    // a 2-3 s step has too few of.
    requestsPerSecond: result.requests.total / result.duration,
    latencyMs: { p50: latency.p50, p90: latency.p90, p99: latency.p99, max: latency.max },
    requests: result.requests.total,
    failures: result.non2xx + result.errors,
  };
}

/** One autocannon run of one step against one server, reduced to the figures the table prints. */
import autocannon from 'autocannon';
import type { HttpStep } from './http-steps.js';

export interface StepFigures {
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  requests: number;
  /** How long the run took: the duration asked for, or less when a step's URLs ran out first. */
  durationS: number;
  /** Non-2xx answers plus connection errors and timeouts: a step with any is not a clean figure. */
  failures: number;
}

export interface StepLoad {
  connections: number;
  durationS: number;
}

/**
 * Where the requests go: every one to `url`, or each to its own entry of `urlPerRequest` (in
 * order, none twice, `url` naming the server), in which case the run ends early when they are
 * used up.
 */
export interface StepTarget {
  url: string;
  urlPerRequest?: readonly string[];
}

/** Sampling interval of a run that may end before its duration: autocannon notices the end at a sample. */
const EARLY_END_SAMPLE_MS = 100;

function pathOf(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

/** The options that send each request to the next URL of `urls`, and no more requests than there are URLs. */
function onePerRequest(urls: readonly string[], connections: number): Partial<autocannon.Options> {
  // autocannon shares maxOverallRequests out among the connections; one left with none would run unbounded.
  if (urls.length < connections) throw new Error(`${urls.length} URLs, one per request, are fewer than the ${connections} connections`);
  const paths = urls.map(pathOf);
  let next = 0;
  return {
    // autocannon builds every request a connection sends through setupRequest, right before it is
    // sent (the first when the connection is set up), so each call is one request.
    requests: [{ setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length]! }) }],
    // Shared out among the connections, so they make exactly paths.length requests between them.
    maxOverallRequests: paths.length,
    sampleInt: EARLY_END_SAMPLE_MS,
  };
}

export async function runStep(
  step: Pick<HttpStep, 'method' | 'headers' | 'body'>,
  target: StepTarget,
  load: StepLoad,
): Promise<StepFigures> {
  const result = await autocannon({
    url: target.url,
    method: step.method,
    headers: step.headers,
    ...(step.body ? { body: step.body } : {}),
    connections: load.connections,
    duration: load.durationS,
    ...(target.urlPerRequest ? onePerRequest(target.urlPerRequest, load.connections) : {}),
  });
  const { latency } = result;
  return {
    // Over the whole run: autocannon's requests.average is the mean of per-second samples, which
    // a 2-3 s step has too few of.
    requestsPerSecond: result.requests.total / result.duration,
    latencyMs: { p50: latency.p50, p90: latency.p90, p99: latency.p99, max: latency.max },
    requests: result.requests.total,
    durationS: result.duration,
    failures: result.non2xx + result.errors,
  };
}

import type { Objective } from '../checker/slo.js';
import { judge, type ObjectiveSpec } from './slo-gate.js';

/*
 * Objectives measured by the system itself: PromQL over the gateways' metrics (docs/metrics.md)
 * through a Prometheus that scrapes them. Reported next to the driver's own figures, named
 * `<objective> (prometheus)`; both gate the run. The server measures acceptance → frame leaving
 * for the device, so its deliver figures are lower than the driver's end-to-end ones.
 */

export class PrometheusQueryError extends Error {
  readonly code = 'LOAD_PROMETHEUS_QUERY';
}

const QUERY_TIMEOUT_MS = 10_000;

/** An instant query; returns the single value of its result (null for an empty result or NaN). */
export async function queryPrometheus(baseUrl: string, query: string, atS?: number): Promise<number | null> {
  const url = new URL('/api/v1/query', baseUrl);
  url.searchParams.set('query', query);
  if (atS !== undefined) url.searchParams.set('time', atS.toFixed(3));
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(QUERY_TIMEOUT_MS) });
  } catch (error) {
    throw new PrometheusQueryError(`Prometheus at ${baseUrl} unreachable: ${(error as Error).message}`);
  }
  const text = await response.text();
  let body: { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
  try {
    body = JSON.parse(text);
  } catch {
    throw new PrometheusQueryError(`Prometheus answered HTTP ${response.status} with non-JSON: ${text.slice(0, 200)}`);
  }
  if (!response.ok || body.status !== 'success')
    throw new PrometheusQueryError(`query failed (HTTP ${response.status}): ${body.error ?? text.slice(0, 200)}`);
  const { resultType, result } = body.data ?? {};
  let raw: unknown;
  if (resultType === 'scalar') raw = (result as [number, string])[1];
  else if (resultType === 'vector') {
    const vector = result as Array<{ value: [number, string] }>;
    if (vector.length === 0) return null;
    if (vector.length > 1) throw new PrometheusQueryError(`query returned ${vector.length} series, expected one: ${query}`);
    raw = vector[0]!.value[1];
  } else throw new PrometheusQueryError(`query returned a ${resultType ?? 'missing'} result, expected a scalar or one series: ${query}`);
  const value = Number(raw);
  return Number.isFinite(value) ? value : null;
}

/** PromQL for the objectives the system's metrics can answer, over a window of `windowS` seconds. */
export function promqlFor(name: string, windowS: number, selector = ''): string | undefined {
  const w = `${Math.max(1, Math.ceil(windowS))}s`;
  const sel = selector ? `{${selector}}` : '';
  const quantile = /^deliver\.(p50|p95|p99|p999)$/.exec(name)?.[1];
  if (quantile) {
    const q = quantile === 'p999' ? 0.999 : Number(quantile.slice(1)) / 100;
    return `1000 * histogram_quantile(${q}, sum by (le) (increase(chat_deliver_latency_seconds_bucket${sel}[${w}])))`;
  }
  if (name === 'error.rate') return `sum(increase(chat_errors_total${sel}[${w}])) / sum(increase(chat_frames_in_total${sel}[${w}]))`;
  return undefined;
}

export interface PrometheusEvaluation {
  objectives: Objective[];
  queries: Array<{ objective: string; query: string; value: number | null; error?: string }>;
}

/** Evaluates every objective PromQL can answer; a failed query is reported and does not pass. */
export async function prometheusObjectives(
  baseUrl: string,
  specs: readonly ObjectiveSpec[],
  windowS: number,
  selector = '',
): Promise<PrometheusEvaluation> {
  const evaluation: PrometheusEvaluation = { objectives: [], queries: [] };
  for (const spec of specs) {
    const query = promqlFor(spec.name, windowS, selector);
    if (!query) continue;
    try {
      const value = await queryPrometheus(baseUrl, query);
      evaluation.queries.push({ objective: spec.name, query, value });
      evaluation.objectives.push(judge(spec, value, ' (prometheus)'));
    } catch (error) {
      evaluation.queries.push({ objective: spec.name, query, value: null, error: (error as Error).message });
      evaluation.objectives.push(judge(spec, null, ' (prometheus)'));
    }
  }
  return evaluation;
}

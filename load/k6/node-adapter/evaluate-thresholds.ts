import { recordedMetric, type RecordedSample } from './recorded-samples.js';

/*
 * k6's threshold expressions evaluated over the adapter's recorded samples, so a test can judge an
 * exported script's thresholds the way k6 would at the end of a run. Covers what the exporter writes:
 * `p(N)`, `avg`, `min`, `max`, `med` on trends, `rate` on rates, `count` on counters, with <, <=, >, >=.
 */

export interface ThresholdVerdict {
  /** The options key, e.g. `chat_deliver_latency_ms{phase:steady}`. */
  metric: string;
  expression: string;
  /** The aggregate the expression compares, null when the metric has no samples. */
  actual: number | null;
  passed: boolean;
}

const EXPRESSION = /^\s*(p\((\d+(?:\.\d+)?)\)|avg|min|max|med|rate|count)\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

/** `name{tag:value,…}` → the metric name and the tag filter of its sub-metric. */
export function parseMetricSelector(selector: string): { name: string; tags: Record<string, string> } {
  const brace = selector.indexOf('{');
  if (brace < 0) return { name: selector, tags: {} };
  const tags: Record<string, string> = {};
  for (const pair of selector.slice(brace + 1, -1).split(',')) {
    const [key, value] = pair.split(':');
    if (key && value !== undefined) tags[key.trim()] = value.trim();
  }
  return { name: selector.slice(0, brace), tags };
}

function percentile(sorted: number[], p: number): number {
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

function aggregate(aggregator: string, samples: RecordedSample[]): number {
  const values = samples.map((s) => s.value);
  const sorted = [...values].sort((a, b) => a - b);
  const sum = values.reduce((a, b) => a + b, 0);
  if (aggregator.startsWith('p(')) return percentile(sorted, Number(aggregator.slice(2, -1)));
  if (aggregator === 'avg' || aggregator === 'rate') return sum / values.length;
  if (aggregator === 'count') return sum;
  if (aggregator === 'min') return sorted[0]!;
  if (aggregator === 'max') return sorted[sorted.length - 1]!;
  return percentile(sorted, 50);
}

function compare(actual: number, operator: string, limit: number): boolean {
  if (operator === '<') return actual < limit;
  if (operator === '<=') return actual <= limit;
  if (operator === '>') return actual > limit;
  return actual >= limit;
}

export function evaluateThreshold(selector: string, expression: string): ThresholdVerdict {
  const match = EXPRESSION.exec(expression);
  if (!match) throw new Error(`threshold "${expression}" is not one the adapter evaluates`);
  const [, aggregator, , operator, limitText] = match;
  const { name, tags } = parseMetricSelector(selector);
  const samples = (recordedMetric(name)?.samples ?? []).filter((s) => Object.entries(tags).every(([k, v]) => s.tags[k] === v));
  // k6 treats an unsampled counter as 0; other aggregates of nothing are unknown here.
  const actual = samples.length > 0 ? aggregate(aggregator!, samples) : aggregator === 'count' ? 0 : null;
  return { metric: selector, expression, actual, passed: actual !== null && compare(actual, operator!, Number(limitText)) };
}

/** Every threshold of a script's `options.thresholds`. */
export function evaluateThresholds(thresholds: Record<string, (string | { threshold: string })[]>): ThresholdVerdict[] {
  return Object.entries(thresholds).flatMap(([selector, expressions]) =>
    expressions.map((e) => evaluateThreshold(selector, typeof e === 'string' ? e : e.threshold)),
  );
}

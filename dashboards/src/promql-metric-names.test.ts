import { describe, expect, it } from 'vitest';
import { metricNamesOf } from './promql-metric-names.js';

describe('metricNamesOf', () => {
  it('finds the metrics of a quantile over a labelled, windowed histogram', () => {
    expect(
      metricNamesOf(
        'histogram_quantile(0.99, sum by (le, node) (rate(chat_deliver_latency_seconds_bucket{node=~"$node"}[$__rate_interval])))',
      ),
    ).toEqual(['chat_deliver_latency_seconds_bucket']);
  });

  it('reads both sides of a binary operation and skips keywords, grouping lists and numbers', () => {
    const expr =
      'sum by (le) (increase(a_bucket[5m])) / ignoring(le) group_left sum(increase(a_count[5m])) > 0 or vector(0) + 1e-9 * b_total offset 5m';
    expect(metricNamesOf(expr)).toEqual(['a_bucket', 'a_count', 'b_total']);
  });

  it('ignores label values and strings that look like metric names', () => {
    expect(metricNamesOf('sum(rate(chat_errors_total{code="chat_push_total"}[1m])) / clamp_min(sum(up), 1)')).toEqual([
      'chat_errors_total',
      'up',
    ]);
  });
});

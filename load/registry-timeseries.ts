/**
 * A prom-client registry as remote-write time series: one sample per series, stamped with the
 * push time. Series carry the same names and labels the registry's /metrics text shows
 * (histograms as their _bucket, _sum and _count series with `le` written as in that text), so
 * dashboards and queries work alike on scraped and on pushed driver metrics.
 */
import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';

export interface TimeseriesSample {
  value: number;
  timestamp: number;
}

export interface Timeseries {
  /** `__name__` first, then the other labels sorted by name (the remote-write protocol requires sorted names). */
  labels: { __name__: string; [name: string]: string };
  samples: TimeseriesSample[];
}

export async function registryTimeseries(
  registry: Registry,
  extraLabels: Readonly<Record<string, string>>,
  timestampMs: number,
): Promise<Timeseries[]> {
  const metrics = (await registry.getMetricsAsJSON()) as Array<MetricObjectWithValues<MetricValue<string>>>;
  return metrics.flatMap((metric) =>
    metric.values.map((value) => ({
      labels: sortedLabels((value as { metricName?: string }).metricName ?? metric.name, { ...extraLabels, ...value.labels }),
      samples: [{ value: value.value, timestamp: timestampMs }],
    })),
  );
}

function sortedLabels(name: string, labels: Readonly<Record<string, string | number | undefined>>): Timeseries['labels'] {
  const sorted: Timeseries['labels'] = { __name__: name };
  for (const key of Object.keys(labels).sort()) {
    const value = labels[key];
    if (value !== undefined && value !== '') sorted[key] = formatLabelValue(value);
  }
  return sorted;
}

/** As prom-client's text output writes it: `+Inf` for the last bucket, plain numbers otherwise. */
function formatLabelValue(value: string | number): string {
  if (typeof value === 'string') return value;
  return value === Number.POSITIVE_INFINITY ? '+Inf' : String(value);
}

/*
 * What the adapter's k6/metrics and check() record, for tests to read: every sample with its tags,
 * by metric name, the way k6 would feed them to thresholds and the end-of-test summary.
 */

export type MetricKind = 'trend' | 'counter' | 'rate' | 'gauge';

export interface RecordedSample {
  value: number;
  tags: Record<string, string>;
}

export interface RecordedMetric {
  kind: MetricKind;
  samples: RecordedSample[];
}

/*
 * One record per process, kept on globalThis: a test that runs a script's init context again
 * (vi.resetModules) loads these modules anew, and the new instances must record where the test reads.
 */
const RECORD_KEY = Symbol.for('chatload.k6-adapter.recorded-samples');
const globals = globalThis as unknown as Record<symbol, Map<string, RecordedMetric> | undefined>;
const recorded = (globals[RECORD_KEY] ??= new Map<string, RecordedMetric>());

export function recordSample(name: string, kind: MetricKind, value: number, tags: Record<string, string> = {}): void {
  const metric = recorded.get(name) ?? { kind, samples: [] };
  metric.samples.push({ value, tags });
  recorded.set(name, metric);
}

export function recordedMetric(name: string): RecordedMetric | undefined {
  return recorded.get(name);
}

export function recordedMetricNames(): string[] {
  return [...recorded.keys()];
}

export function clearRecordedSamples(): void {
  recorded.clear();
}

import { recordSample, type MetricKind } from './recorded-samples.js';

/** `k6/metrics` on Node: each add() becomes a recorded sample (recorded-samples.ts). */
abstract class AdapterMetric {
  protected abstract readonly kind: MetricKind;
  constructor(
    readonly name: string,
    readonly isTime = false,
  ) {}

  add(value: number | boolean, tags?: Record<string, string>): void {
    recordSample(this.name, this.kind, typeof value === 'boolean' ? Number(value) : value, tags);
  }
}

export class Trend extends AdapterMetric {
  protected readonly kind = 'trend';
}
export class Counter extends AdapterMetric {
  protected readonly kind = 'counter';
}
export class Rate extends AdapterMetric {
  protected readonly kind = 'rate';
}
export class Gauge extends AdapterMetric {
  protected readonly kind = 'gauge';
}

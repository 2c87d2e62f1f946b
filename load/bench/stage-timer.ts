import { AsyncLocalStorage } from 'node:async_hooks';
import * as hdr from 'hdr-histogram-js';

export interface StageFigures {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Sum of all durations, to compare where the time of a message goes. */
  totalMs: number;
}

export interface EncodedStage {
  histogramBase64: string;
  totalMs: number;
}

/**
 * Per-stage latency histograms for a benchmark harness (HDR, µs resolution). Stages are named by
 * the caller (`inbox.enqueue`, `cql INSERT messages IF`, …). Not for production paths: it keeps
 * one histogram per name for the life of the process.
 */
export class StageTimer {
  private readonly stages = new Map<string, { histogram: hdr.Histogram; totalMs: number }>();
  /** The stage of the outermost timed call the current async context runs inside. */
  private readonly outermost = new AsyncLocalStorage<string>();

  /**
   * The outermost timed call (`time` or a wrapped port) this code runs inside — the request
   * handler or port call that started the work — or undefined outside all of them. Lets the
   * caller attribute requests to the message path or to set-up.
   */
  outerStage(): string | undefined {
    return this.outermost.getStore();
  }

  /** Runs `call` with `stage` as the outer stage unless it already runs inside one. */
  private within<T>(stage: string, call: () => T): T {
    return this.outermost.getStore() === undefined ? this.outermost.run(stage, call) : call();
  }

  record(stage: string, durationMs: number): void {
    const entry = this.entry(stage);
    entry.histogram.recordValue(Math.max(1, Math.round(durationMs * 1000)));
    entry.totalMs += durationMs;
  }

  /** Every stage's histogram, compressed, to send to another process (see `merge`). */
  encode(): Record<string, EncodedStage> {
    const out: Record<string, EncodedStage> = {};
    for (const [name, { histogram, totalMs }] of this.stages)
      out[name] = { histogramBase64: hdr.encodeIntoCompressedBase64(histogram), totalMs };
    return out;
  }

  /** Adds another process's encoded stages to these (e.g. all gateways of a cluster into one table). */
  merge(encoded: Record<string, EncodedStage>): void {
    for (const [name, stage] of Object.entries(encoded)) {
      const entry = this.entry(name);
      entry.histogram.add(hdr.decodeFromCompressedBase64(stage.histogramBase64));
      entry.totalMs += stage.totalMs;
    }
  }

  private entry(stage: string): { histogram: hdr.Histogram; totalMs: number } {
    let entry = this.stages.get(stage);
    if (!entry) {
      entry = {
        histogram: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 2 }),
        totalMs: 0,
      };
      this.stages.set(stage, entry);
    }
    return entry;
  }

  /** Times a promise-returning call under `stage`. */
  time<T>(stage: string, call: () => Promise<T>): Promise<T> {
    const startMs = performance.now();
    return this.within(stage, call).finally(() => this.record(stage, performance.now() - startMs));
  }

  /** Wraps every function property of `target` (own and prototype) so its async calls are timed as `<prefix>.<method>`. */
  wrapPort<T extends object>(prefix: string, target: T): T {
    return new Proxy(target, {
      get: (object, property, receiver) => {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (typeof value !== 'function' || typeof property !== 'string') return value;
        return (...args: unknown[]) => {
          const startMs = performance.now();
          const result = this.within(`${prefix}.${property}`, () => (value as (...a: unknown[]) => unknown).apply(object, args));
          if (result instanceof Promise) return result.finally(() => this.record(`${prefix}.${property}`, performance.now() - startMs));
          return result;
        };
      },
    });
  }

  figures(): Record<string, StageFigures> {
    const out: Record<string, StageFigures> = {};
    for (const [name, { histogram, totalMs }] of [...this.stages].sort(([a], [b]) => a.localeCompare(b))) {
      out[name] = {
        count: histogram.totalCount,
        p50Ms: histogram.getValueAtPercentile(50) / 1000,
        p99Ms: histogram.getValueAtPercentile(99) / 1000,
        maxMs: histogram.maxValue / 1000,
        totalMs: Math.round(totalMs),
      };
    }
    return out;
  }
}

/** A fixed-width table of stage figures, widest total first. */
export function formatStages(figures: Record<string, StageFigures>): string {
  const rows = Object.entries(figures).sort(([, a], [, b]) => b.totalMs - a.totalMs);
  const lines = [
    `${'stage'.padEnd(48)} ${'count'.padStart(7)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'total ms'.padStart(9)}`,
  ];
  for (const [name, f] of rows) {
    lines.push(
      `${name.slice(0, 48).padEnd(48)} ${String(f.count).padStart(7)} ${f.p50Ms.toFixed(1).padStart(8)} ${f.p99Ms.toFixed(1).padStart(8)} ${f.maxMs.toFixed(1).padStart(8)} ${String(f.totalMs).padStart(9)}`,
    );
  }
  return lines.join('\n');
}

import type { LoadSample } from '../../load/run-load.js';

/*
 * Recovery time of each fault, judged from the load's one-sample-per-second time series: the
 * fault has recovered at the first second from which, for `hold_s` consecutive seconds, delivered
 * throughput (relative to what the schedule offered) is back within `throughput_within` of the
 * pre-fault level and the deliver p99 of that second is under the target (or, when the machine
 * missed the target even before the fault, within a factor of the pre-fault p99). Throughput is averaged
 * over a sliding `window_s` so Poisson noise of small loads does not decide it.
 */

export interface RecoveryRule {
  throughput_within: number;
  deliver_p99_ms: number;
  baseline_p99_factor: number;
  window_s: number;
  hold_s: number;
}

/** Delivered per offered message before any fault: the level throughput must return to. */
export interface Baseline {
  deliveredPerOffered: number;
  deliveredPerS: number;
  /** Median of the pre-fault seconds' deliver p99 (ms); null when nothing was delivered live. */
  deliverP99Ms: number | null;
  seconds: number;
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The p99 a second must be under to count as recovered: the target, or a multiple of the pre-fault p99 when that was already above it. */
export function recoveryP99LimitMs(baseline: Baseline, rule: RecoveryRule): number {
  return Math.max(rule.deliver_p99_ms, (baseline.deliverP99Ms ?? 0) * rule.baseline_p99_factor);
}

/** Only samples of the traffic phase count: the settle phase offers nothing. */
function trafficSamples(samples: readonly LoadSample[]): LoadSample[] {
  return samples.filter((s) => s.offeredPerS > 0);
}

export function baselineOf(samples: readonly LoadSample[], fromS: number, untilS: number): Baseline | undefined {
  const pre = trafficSamples(samples).filter((s) => s.atS - 1 >= fromS - 1e-9 && s.atS <= untilS + 1e-9);
  const offered = pre.reduce((sum, s) => sum + s.offeredPerS, 0);
  const delivered = pre.reduce((sum, s) => sum + s.deliveredPerS, 0);
  if (pre.length === 0 || offered === 0 || delivered === 0) return undefined;
  const p99s = pre.map((s) => s.deliverP99Ms).filter((v): v is number => v !== null);
  return {
    deliveredPerOffered: delivered / offered,
    deliveredPerS: delivered / pre.length,
    deliverP99Ms: median(p99s),
    seconds: pre.length,
  };
}

/** Whether the second ending at samples[k] looks like steady state again. */
function healthyAt(samples: readonly LoadSample[], k: number, baseline: Baseline, rule: RecoveryRule): boolean {
  const sample = samples[k]!;
  if (sample.deliverP99Ms === null || sample.deliverP99Ms > recoveryP99LimitMs(baseline, rule)) return false;
  const window = samples.slice(Math.max(0, k - rule.window_s + 1), k + 1);
  const offered = window.reduce((sum, s) => sum + s.offeredPerS, 0);
  const delivered = window.reduce((sum, s) => sum + s.deliveredPerS, 0);
  return offered > 0 && delivered / offered >= (1 - rule.throughput_within) * baseline.deliveredPerOffered;
}

/**
 * The time (seconds, same origin as the samples) at which service was back after `fromS`, or null
 * when it did not come back while the load ran. The answer is the end of the first second of the
 * healthy stretch, so a fault with no visible effect recovers one second after `fromS`.
 */
export function recoveredAt(samples: readonly LoadSample[], fromS: number, baseline: Baseline, rule: RecoveryRule): number | null {
  const traffic = trafficSamples(samples);
  let streak = 0;
  for (let k = 0; k < traffic.length; k++) {
    if (traffic[k]!.atS - 1 < fromS - 1e-9) continue;
    streak = healthyAt(traffic, k, baseline, rule) ? streak + 1 : 0;
    if (streak === rule.hold_s) return traffic[k - rule.hold_s + 1]!.atS;
  }
  return null;
}

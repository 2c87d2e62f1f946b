import type { LoadSample } from '../../load/run-load.js';

export interface AbortRule {
  error_rate_above?: number | undefined;
  deliver_p99_above_ms?: number | undefined;
  for_s: number;
}

/**
 * Watches the per-second samples while the drill runs and says when the abort rule fires: the
 * error rate or the deliver p99 stayed above its limit for `for_s` consecutive seconds. A second
 * with nothing delivered live counts as above the p99 limit (nothing getting through is worse
 * than slow).
 */
export class AbortMonitor {
  private streak = 0;
  reason: string | undefined;

  constructor(private readonly rule: AbortRule) {}

  /** Feeds one sample; returns the reason once the rule fires (and on every later call). */
  observe(sample: LoadSample): string | undefined {
    if (this.reason !== undefined) return this.reason;
    if (sample.offeredPerS === 0) return undefined;
    const problems: string[] = [];
    const errorRate = sample.errorsPerS / Math.max(1, sample.sentPerS);
    if (this.rule.error_rate_above !== undefined && errorRate > this.rule.error_rate_above) {
      problems.push(`error rate ${errorRate.toFixed(2)} > ${this.rule.error_rate_above}`);
    }
    if (
      this.rule.deliver_p99_above_ms !== undefined &&
      (sample.deliverP99Ms === null || sample.deliverP99Ms > this.rule.deliver_p99_above_ms)
    ) {
      problems.push(
        `deliver p99 ${sample.deliverP99Ms === null ? 'n/a (nothing delivered live)' : `${Math.round(sample.deliverP99Ms)} ms`} > ${this.rule.deliver_p99_above_ms} ms`,
      );
    }
    this.streak = problems.length > 0 ? this.streak + 1 : 0;
    if (this.streak >= this.rule.for_s)
      this.reason = `abort rule fired at t=${sample.atS}s: ${problems.join(' and ')} for ${this.rule.for_s} s`;
    return this.reason;
  }
}

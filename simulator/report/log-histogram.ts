/**
 * A small fixed-size latency histogram with logarithmic bins (about 5 % wide), for per-interval
 * percentiles in time series: hundreds of them cost kilobytes. The run-wide figures use an HDR
 * histogram (checker/latency.ts's settings) instead.
 */
const GROWTH = 1.05;
const FIRST_MS = 0.05;
const LOG_GROWTH = Math.log(GROWTH);
/**
 * Latencies up to this are binned (larger ones land in the last bin, reported as the exact max).
 * An hour, as the run-wide HDR histograms: a message held through a store outage and a reconnect
 * is delivered minutes late, and an interval's p99 must say so (256 bins stopped at ~13.3 s).
 */
export const LOG_HISTOGRAM_RANGE_MS = 3_600_000;
/** Enough bins for FIRST_MS · GROWTH^BINS to reach the range (372). Bin numbers of older files stay valid: the bins are the same, there are only more of them. */
const BINS = Math.ceil(Math.log(LOG_HISTOGRAM_RANGE_MS / FIRST_MS) / LOG_GROWTH) + 1;

/** A LogHistogram as it goes into a summary file: the non-empty bins as [bin, count] pairs. */
export interface LogHistogramJson {
  bins: Array<[number, number]>;
  max: number;
}

export class LogHistogram {
  readonly counts = new Uint32Array(BINS);
  total = 0;
  max = 0;

  record(ms: number): void {
    const v = ms > FIRST_MS ? ms : FIRST_MS;
    let bin = Math.floor(Math.log(v / FIRST_MS) / LOG_GROWTH);
    if (bin >= BINS) bin = BINS - 1;
    this.counts[bin]!++;
    this.total++;
    if (ms > this.max) this.max = ms;
  }

  /** Upper edge of the bin holding the p-th percentile (ms), capped at max (the max itself beyond the range); 0 when empty. */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.ceil((p / 100) * this.total);
    let seen = 0;
    for (let bin = 0; bin < BINS; bin++) {
      seen += this.counts[bin]!;
      // The last bin is open-ended (everything beyond the range): only the exact max describes it.
      if (seen >= rank) return bin === BINS - 1 ? this.max : Math.min(this.max, FIRST_MS * Math.pow(GROWTH, bin + 1));
    }
    return this.max;
  }

  toJson(): LogHistogramJson {
    const bins: Array<[number, number]> = [];
    for (let bin = 0; bin < BINS; bin++) if (this.counts[bin]! > 0) bins.push([bin, this.counts[bin]!]);
    return { bins, max: this.max };
  }

  /** Adds another histogram's counts (one written by toJson), e.g. another cell's. */
  addJson(other: LogHistogramJson): void {
    for (const [bin, count] of other.bins) {
      if (!Number.isInteger(bin) || bin < 0 || bin >= BINS || !(count >= 0))
        throw new Error(`not a latency histogram bin: [${bin}, ${count}]`);
      this.counts[bin]! += count;
      this.total += count;
    }
    if (other.max > this.max) this.max = other.max;
  }
}

/**
 * A small fixed-size latency histogram with logarithmic bins (about 5 % wide), for per-interval
 * percentiles in time series: hundreds of them cost kilobytes. The run-wide figures use an HDR
 * histogram (checker/latency.ts's settings) instead.
 */
const BINS = 256;
const GROWTH = 1.05;
const FIRST_MS = 0.05;
const LOG_GROWTH = Math.log(GROWTH);

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

  /** Upper edge of the bin holding the p-th percentile (ms), capped at max; 0 when empty. */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.ceil((p / 100) * this.total);
    let seen = 0;
    for (let bin = 0; bin < BINS; bin++) {
      seen += this.counts[bin]!;
      if (seen >= rank) return Math.min(this.max, FIRST_MS * Math.pow(GROWTH, bin + 1));
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
      if (!Number.isInteger(bin) || bin < 0 || bin >= BINS || !(count >= 0)) throw new Error(`not a latency histogram bin: [${bin}, ${count}]`);
      this.counts[bin]! += count;
      this.total += count;
    }
    if (other.max > this.max) this.max = other.max;
  }
}

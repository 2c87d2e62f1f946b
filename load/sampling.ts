import type { Distribution } from '../scenarios/format/index.js';
import type { Random } from '../system/ports/random.js';

/*
 * Draws from the scenario's distributions with the driver's seeded PRNG (the scenario format leaves
 * sampling to each consumer). Pure functions of (distribution, random): a seed gives the same plan.
 */

/** Zipf tables are built once per distribution object: cumulative weights over min..max. */
const zipfTables = new WeakMap<object, Float64Array>();

export function sample(d: Distribution, random: Random): number {
  switch (d.kind) {
    case 'constant':
      return d.value;
    case 'uniform':
      return d.min + random.nextFloat() * (d.max - d.min);
    case 'exponential':
      return -d.mean * Math.log(1 - random.nextFloat());
    case 'lognormal': {
      const value = d.median * Math.exp(d.sigma * standardNormal(random));
      return d.max === undefined ? value : Math.min(d.max, value);
    }
    case 'pareto': {
      const value = d.min / Math.pow(1 - random.nextFloat(), 1 / d.alpha);
      return d.max === undefined ? value : Math.min(d.max, value);
    }
    case 'zipf': {
      let table = zipfTables.get(d);
      if (!table) {
        table = new Float64Array(d.max - d.min + 1);
        let total = 0;
        for (let k = 0; k < table.length; k++) {
          total += 1 / Math.pow(k + 1, d.exponent);
          table[k] = total;
        }
        for (let k = 0; k < table.length; k++) table[k]! /= total;
        zipfTables.set(d, table);
      }
      return d.min + lowerBound(table, random.nextFloat());
    }
  }
}

/** Box–Muller: one standard normal draw from two uniforms. */
function standardNormal(random: Random): number {
  const u = Math.max(Number.MIN_VALUE, random.nextFloat());
  const v = random.nextFloat();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** First index whose cumulative value is >= x (binary search over a non-decreasing array). */
export function lowerBound(cumulative: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Picks an index with probability proportional to its weight, given cumulative weights. */
export function pickWeighted(cumulative: ArrayLike<number>, random: Random): number {
  const total = cumulative[cumulative.length - 1] ?? 0;
  return lowerBound(cumulative, random.nextFloat() * total);
}

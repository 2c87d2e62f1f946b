import type { Distribution } from '../format/index.js';

/*
 * Draws from the scenario's distributions, for the simulator and the load driver alike: pure
 * functions of (distribution, uniform source), so a seed gives the same draws in both tools.
 */

/** A uniform source in [0, 1): a seeded stream (SeededRandom, or anything with its nextFloat). */
export interface Uniform {
  nextFloat(): number;
}

/** Zipf tables are built once per distribution object: cumulative weights over min..max. */
const zipfTables = new WeakMap<object, Float64Array>();

/** Draws one value of a scenario distribution. */
export function sample(d: Distribution, rng: Uniform): number {
  switch (d.kind) {
    case 'constant':
      return d.value;
    case 'uniform':
      return d.min + (d.max - d.min) * rng.nextFloat();
    case 'exponential':
      return exponential(d.mean, rng);
    case 'lognormal': {
      const value = d.median * Math.exp(d.sigma * standardNormal(rng));
      return d.max !== undefined ? Math.min(d.max, value) : value;
    }
    case 'pareto': {
      const value = d.min / Math.pow(1 - rng.nextFloat(), 1 / d.alpha);
      return d.max !== undefined ? Math.min(d.max, value) : value;
    }
    case 'zipf': {
      let cdf = zipfTables.get(d);
      if (!cdf) {
        cdf = zipfCdf(d.exponent, d.min, d.max);
        zipfTables.set(d, cdf);
      }
      // The first rank whose cumulative share exceeds the draw.
      return d.min + firstAbove(cdf, rng.nextFloat());
    }
  }
}

export function exponential(mean: number, rng: Uniform): number {
  return -mean * Math.log(1 - rng.nextFloat());
}

/** Box–Muller; one draw per call keeps the stream's use simple and deterministic. */
function standardNormal(rng: Uniform): number {
  const u1 = 1 - rng.nextFloat();
  const u2 = rng.nextFloat();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

function zipfCdf(exponent: number, min: number, max: number): Float64Array {
  const n = max - min + 1;
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / Math.pow(k + 1, exponent);
    cdf[k] = total;
  }
  for (let k = 0; k < n; k++) cdf[k]! /= total;
  cdf[n - 1] = 1;
  return cdf;
}

/** First index whose cumulative value is > x (binary search over a non-decreasing array). */
function firstAbove(cumulative: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Picks an index with probability proportional to its weight, given cumulative weights. */
export function pickWeighted(cumulative: ArrayLike<number>, rng: Uniform): number {
  const total = cumulative[cumulative.length - 1] ?? 0;
  return firstAbove(cumulative, rng.nextFloat() * total);
}

/**
 * Which of a user's `contactCount` partners a 1:1 message goes to: rank k ~ count × u², so the
 * low ranks (the user's most frequent partners) get most messages.
 */
export function pickContactRank(contactCount: number, rng: Uniform): number {
  const u = rng.nextFloat();
  return Math.floor(contactCount * u * u);
}

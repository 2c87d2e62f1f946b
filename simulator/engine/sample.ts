import type { Distribution } from '../../scenarios/format/index.js';

/** A uniform source in [0, 1): the seeded streams of the run. */
export interface Uniform {
  nextFloat(): number;
}

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
      const u = rng.nextFloat();
      let lo = 0;
      let hi = cdf.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      return d.min + lo;
    }
  }
}

export function exponential(mean: number, rng: Uniform): number {
  return -mean * Math.log(1 - rng.nextFloat());
}

/** Box–Muller; one draw per call keeps the stream's use simple and deterministic. */
export function standardNormal(rng: Uniform): number {
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

/** An integer in [0, n). */
export function pickIndex(n: number, rng: Uniform): number {
  return Math.floor(rng.nextFloat() * n);
}

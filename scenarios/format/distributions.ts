import { z } from 'zod';

/*
 * Random quantities in scenarios (session lengths, message sizes, per-user activity, group sizes).
 * Each is a tagged object so a YAML reader sees which law is meant and which parameters it takes.
 * Sampling lives with the consumers (simulator, load driver): they each own their seeded PRNG.
 */

export const constantDistribution = z
  .object({ kind: z.literal('constant'), value: z.number().nonnegative() })
  .describe('Always the same value.');

export const uniformDistribution = z
  .object({ kind: z.literal('uniform'), min: z.number().nonnegative(), max: z.number().nonnegative() })
  .describe('Any value between min and max with equal chance.');

export const exponentialDistribution = z
  .object({ kind: z.literal('exponential'), mean: z.number().positive() })
  .describe('Memoryless waiting times, e.g. session lengths; mean in the unit of the field.');

export const lognormalDistribution = z
  .object({
    kind: z.literal('lognormal'),
    median: z.number().positive(),
    /** Spread of the underlying normal (σ); 1 gives a long right tail. */
    sigma: z.number().positive(),
    max: z.number().positive().optional(),
  })
  .describe('Right-skewed sizes, e.g. media bytes; clipped at max when given.');

export const paretoDistribution = z
  .object({
    kind: z.literal('pareto'),
    /** Tail index α: lower is heavier; 1.16 gives the classic 80/20 split. */
    alpha: z.number().positive(),
    min: z.number().positive(),
    max: z.number().positive().optional(),
  })
  .describe('Heavy-tailed quantities, e.g. how active a user is relative to the mean.');

export const zipfDistribution = z
  .object({
    kind: z.literal('zipf'),
    /** Exponent s: rank k has weight 1/k^s. */
    exponent: z.number().positive(),
    min: z.number().int().positive(),
    max: z.number().int().positive(),
  })
  .describe('Integer sizes with many small and few large values, e.g. group sizes.');

export const distribution = z.discriminatedUnion('kind', [
  constantDistribution,
  uniformDistribution,
  exponentialDistribution,
  lognormalDistribution,
  paretoDistribution,
  zipfDistribution,
]);
export type Distribution = z.infer<typeof distribution>;

/** Expected value of a distribution (clipping at `max` ignored for lognormal/pareto), for capacity sums. */
export function meanOf(d: Distribution): number {
  switch (d.kind) {
    case 'constant':
      return d.value;
    case 'uniform':
      return (d.min + d.max) / 2;
    case 'exponential':
      return d.mean;
    case 'lognormal':
      return d.median * Math.exp((d.sigma * d.sigma) / 2);
    case 'pareto':
      return d.alpha > 1 ? (d.alpha * d.min) / (d.alpha - 1) : (d.max ?? d.min * 100);
    case 'zipf': {
      let weight = 0;
      let weighted = 0;
      for (let k = d.min; k <= d.max; k++) {
        const w = 1 / Math.pow(k - d.min + 1, d.exponent);
        weight += w;
        weighted += w * k;
      }
      return weighted / weight;
    }
  }
}

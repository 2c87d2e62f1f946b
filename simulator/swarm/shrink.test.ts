import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { shrinkSchedule, split } from './shrink.js';

/** A predicate that fails when every index of one of `causes` is kept (a bug needing those faults together). */
function failsWith(...causes: number[][]) {
  const tried: string[] = [];
  const fails = (kept: number[]) => {
    tried.push(kept.join(','));
    return Promise.resolve(causes.some((cause) => cause.every((i) => kept.includes(i))));
  };
  return { fails, tried };
}

describe('shrinking a failing schedule (ddmin)', () => {
  it('reduces a schedule to the two faults that fail only together', async () => {
    const { fails } = failsWith([2, 5]);
    const result = await shrinkSchedule(8, fails, { maxRuns: 100, batch: 1 });
    expect(result.kept).toEqual([2, 5]);
    expect(result.exhausted).toBe(false);
    expect(result.runs).toBeLessThan(30);
  });

  it('keeps one fault that fails alone, and nothing when the seed fails without faults', async () => {
    expect((await shrinkSchedule(5, failsWith([3]).fails, { maxRuns: 100, batch: 1 })).kept).toEqual([3]);
    const none = await shrinkSchedule(5, failsWith([]).fails, { maxRuns: 100, batch: 1 });
    expect(none).toEqual({ kept: [], runs: 1, exhausted: false });
  });

  it('gives a 1-minimal set for any cause: dropping any one kept fault passes, and the result does not depend on the batch size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.array(fc.nat(9), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 4 }),
        async (count, rawCauses, batch) => {
          const causes = rawCauses.map((c) => [...new Set(c.map((i) => i % count))]);
          const result = await shrinkSchedule(count, failsWith(...causes).fails, { maxRuns: 1_000, batch });
          const fails = (kept: number[]) => causes.some((cause) => cause.every((i) => kept.includes(i)));
          expect(fails(result.kept)).toBe(true);
          for (const drop of result.kept) expect(fails(result.kept.filter((i) => i !== drop))).toBe(false);
          expect((await shrinkSchedule(count, failsWith(...causes).fails, { maxRuns: 1_000, batch: 1 })).kept).toEqual(result.kept);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('stops at its run budget with the smallest failing set found so far', async () => {
    const result = await shrinkSchedule(16, failsWith([1, 14]).fails, { maxRuns: 3, batch: 1 });
    expect(result.exhausted).toBe(true);
    expect(result.runs).toBe(3);
    expect(result.kept).toEqual(expect.arrayContaining([1, 14]));
  });

  it('splits into consecutive parts of nearly equal size', () => {
    expect(split([0, 1, 2, 3, 4], 2)).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
    expect(split([0, 1, 2], 3)).toEqual([[0], [1], [2]]);
  });
});

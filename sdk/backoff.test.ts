import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './backoff.js';

describe('backoffDelayMs', () => {
  it('doubles per attempt up to the cap, jittered into [base/2, base]', () => {
    expect(backoffDelayMs(1, 250, 15_000, 1)).toBe(250);
    expect(backoffDelayMs(1, 250, 15_000, 0)).toBe(125);
    expect(backoffDelayMs(3, 250, 15_000, 1)).toBe(1_000);
    expect(backoffDelayMs(50, 250, 15_000, 1)).toBe(15_000);
  });

  it('property: always within [min/2, max]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const delay = backoffDelayMs(attempt, 200, 10_000, r);
        expect(delay).toBeGreaterThanOrEqual(100);
        expect(delay).toBeLessThanOrEqual(10_000);
      }),
    );
  });
});

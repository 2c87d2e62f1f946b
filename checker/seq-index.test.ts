import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeqIndex } from './seq-index.js';

describe('SeqIndex', () => {
  it('behaves like a Map with ascending keys, dense or sparse', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.oneof(fc.nat({ max: 200 }), fc.nat({ max: 100_000 }), fc.integer({ min: -5, max: 5 }), fc.constant(2.5)), fc.nat()),
          { maxLength: 300 },
        ),
        (ops) => {
          const s = new SeqIndex();
          const m = new Map<number, number>();
          for (const [seq, idx] of ops) {
            s.set(seq, idx);
            m.set(seq, idx);
          }
          expect(s.size).toBe(m.size);
          expect(s.keys()).toEqual([...m.keys()].sort((a, b) => a - b));
          for (const [k, v] of m) expect(s.get(k)).toBe(v);
          expect(s.get(123_456)).toBe(m.get(123_456));
          expect(s.has(-7)).toBe(m.has(-7));
        },
      ),
    );
  });

  it('keeps history indices beyond 2^31 (found by the property above: index + 1 overflowed 32-bit storage)', () => {
    const s = new SeqIndex();
    s.set(0, 2_147_483_647);
    s.set(1, 0xffff_ffff);
    expect(s.get(0)).toBe(2_147_483_647);
    expect(s.get(1)).toBe(0xffff_ffff);
  });

  it('grows downwards', () => {
    const s = new SeqIndex();
    for (let seq = 100; seq >= 1; seq--) s.set(seq, seq * 10);
    expect(s.keys()).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(s.get(1)).toBe(10);
    expect(s.get(0)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { INVARIANT_NAMES, buildHistoryIndex, checkHistory, durability, formatViolation, order } from './index.js';
import { drop, isDeliver } from './test-support/edit.js';
import { cleanGroupHistory } from './test-support/scenario.js';

describe('checkHistory', () => {
  it('checks every invariant and finds nothing in a clean history', () => {
    const result = checkHistory(cleanGroupHistory());
    expect(result.checked).toEqual([...INVARIANT_NAMES]);
    expect(result.violations).toEqual([]);
    expect(Object.values(result.counts).every((n) => n === 0)).toBe(true);
    expect(result.notes).toEqual([]);
  });

  it('runs a chosen subset, shares a prebuilt index, and caps what it keeps', () => {
    const h = drop(cleanGroupHistory(), isDeliver('bob', 'phone', 2));
    const index = buildHistoryIndex(h);
    expect(durability(index)).toEqual(durability(h));
    const only = checkHistory(index, { invariants: ['order'] });
    expect(only.checked).toEqual(['order']);
    expect(only.violations.map((v) => v.invariant)).toEqual(['order']);

    const all = checkHistory(h);
    expect(all.violations.map((v) => v.invariant).sort()).toEqual(['durability', 'order']);
    const capped = checkHistory(h, { maxViolationsPerInvariant: 0 });
    expect(capped.violations).toEqual([]);
    expect(capped.counts).toMatchObject({ durability: 1, order: 1 });
  });

  it('formats a violation readably', () => {
    const [v] = order(drop(cleanGroupHistory(), isDeliver('bob', 'phone', 2)));
    const text = formatViolation(v!);
    const lines = text.split('\n');
    expect(lines[0]).toBe('[order] conversation grp:00aa11bb · device bob/phone · seq 2');
    expect(lines[1]).toMatch(/^ {2}bob\/phone skipped seq 2/);
    expect(lines[2]).toBe('  witness:');
    expect(lines.slice(3).every((l) => /^ {4}@\d+ms (deliver|ack) /.test(l))).toBe(true);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { modelActions } from '../test-support/model-arbitraries.js';
import type { HistoryEvent } from '../history.js';
import { checkHistory } from '../index.js';
import { DEVICE_COUNT, USERS, runModel, type ModelSetup, type ModelStep } from '../test-support/model.js';
import { SeqRanges } from './seq-ranges.js';
import { StreamingChecker } from './streaming-checker.js';

function stream(history: readonly HistoryEvent[]) {
  const checker = new StreamingChecker();
  for (const e of history) checker.observe(e);
  return checker.finish();
}

const action = modelActions({ roleChanges: false });
const setup: fc.Arbitrary<ModelSetup> = fc.record({
  initialMembers: fc.array(fc.boolean(), { minLength: USERS.length, maxLength: USERS.length }),
  initiallyLinked: fc.constant(new Array<boolean>(DEVICE_COUNT).fill(true)),
});
const steps = fc.array(
  fc.record({ action, dtMs: fc.oneof(fc.constant(0), fc.nat({ max: 50 }), fc.nat({ max: 5_000 })) }) as fc.Arbitrary<ModelStep>,
  {
    minLength: 10,
    maxLength: 120,
  },
);

describe('SeqRanges', () => {
  it('keeps sets of seqs as ranges, merging neighbours and reporting holes', () => {
    const r = new SeqRanges();
    for (const s of [1, 2, 3, 7, 5, 6, 10]) r.add(s);
    expect([1, 2, 3, 5, 6, 7, 10].every((s) => r.has(s))).toBe(true);
    expect([0, 4, 8, 9, 11].some((s) => r.has(s))).toBe(false);
    const holes: Array<[number, number]> = [];
    r.forEachHole((from, to) => holes.push([from, to]));
    expect(holes).toEqual([
      [4, 4],
      [8, 9],
    ]);
    r.add(4);
    expect(r.rangeCount).toBe(2);
    expect(r.max).toBe(10);
  });
});

describe('StreamingChecker', () => {
  it('finds nothing where checkHistory finds nothing, on valid histories of the reference model', () => {
    fc.assert(
      fc.property(setup, steps, (s, st) => {
        const history = runModel(s, st);
        const batch = checkHistory(history);
        const streaming = stream(history);
        const batchTotal = Object.values(batch.counts).reduce((a, b) => a + b, 0);
        expect(batchTotal).toBe(0);
        expect(streaming.violations.map((v) => `${v.invariant}: ${v.message}`)).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('builds membership spans right when a removal is observed before the creation it ends (found by the property above)', () => {
    // u3's device records the removal of u1 (seq 3) before any device records the creation (seq 1).
    const history = runModel(
      { initialMembers: [false, true, false, false], initiallyLinked: [true, true, true, true, true, true, true, true] },
      [
        { action: { kind: 'add', user: 3 }, dtMs: 0 },
        { action: { kind: 'remove', user: 1 }, dtMs: 0 },
        { action: { kind: 'flush', device: 6 }, dtMs: 0 },
        { action: { kind: 'flush', device: 0 }, dtMs: 0 },
        { action: { kind: 'send', device: 0, dm: false, retry: false }, dtMs: 0 },
        { action: { kind: 'flush', device: 0 }, dtMs: 0 },
      ] as ModelStep[],
    );
    const batchTotal = Object.values(checkHistory(history).counts).reduce((a, b) => a + b, 0);
    expect(batchTotal).toBe(0);
    expect(stream(history).violations.map((v) => `${v.invariant}: ${v.message}`)).toEqual([]);
  });

  it('agrees with checkHistory on presence read twice at one instant: only the last is judged', () => {
    const at = (online: boolean, atMs: number): HistoryEvent => ({
      type: 'presence',
      atMs,
      userId: 'u0',
      deviceId: 'd0',
      subjectUserId: 'u1',
      online,
    });
    const base: HistoryEvent[] = [
      { type: 'device', atMs: 0, userId: 'u0', deviceId: 'd0' },
      { type: 'device', atMs: 0, userId: 'u1', deviceId: 'd0' },
      { type: 'connect', atMs: 1_000, userId: 'u0', deviceId: 'd0' },
      { type: 'connect', atMs: 1_000, userId: 'u1', deviceId: 'd0' },
      { type: 'disconnect', atMs: 5_000, userId: 'u1', deviceId: 'd0' },
      { type: 'connect', atMs: 6_000, userId: 'u1', deviceId: 'd0' },
    ];
    const shownOnline = [...base, at(false, 10_000), at(true, 10_000)];
    const shownOffline = [...base, at(true, 10_000), at(false, 10_000)];
    expect(checkHistory(shownOnline).counts.presence).toBe(0);
    expect(stream(shownOnline).violations).toEqual([]);
    expect(checkHistory(shownOffline).counts.presence).toBe(1);
    expect(stream(shownOffline).violations.map((v) => v.invariant)).toEqual(['presence']);
  });

  it('agrees with checkHistory on a connection that began between its welcomed and its connect', () => {
    const history = (connectAtMs: number | undefined, online: boolean, atMs: number): HistoryEvent[] => [
      { type: 'device', atMs: 0, userId: 'u0', deviceId: 'd0' },
      { type: 'device', atMs: 0, userId: 'u1', deviceId: 'd0' },
      { type: 'connect', atMs: 0, userId: 'u0', deviceId: 'd0' },
      { type: 'welcomed', atMs: 1_000, userId: 'u1', deviceId: 'd0' },
      ...(connectAtMs === undefined ? [] : [{ type: 'connect' as const, atMs: connectAtMs, userId: 'u1', deviceId: 'd0' }]),
      { type: 'presence', atMs, userId: 'u0', deviceId: 'd0', subjectUserId: 'u1', online },
    ];
    for (const [connectAtMs, online, atMs, expected] of [
      [undefined, false, 10_000, 0],
      [undefined, true, 1_500, 0],
      [5_000, false, 6_000, 0],
      [5_000, false, 8_000, 1],
    ] as const) {
      const h = history(connectAtMs, online, atMs);
      expect(checkHistory(h).counts.presence).toBe(expected);
      expect(stream(h).violations.filter((v) => v.invariant === 'presence')).toHaveLength(expected);
    }
  });

  it('flags a lost delivery when checkHistory does', () => {
    fc.assert(
      fc.property(setup, steps, fc.nat(), (s, st, pick) => {
        const history = runModel(s, st);
        const delivers = history.map((e, i) => [e, i] as const).filter(([e]) => e.type === 'deliver' && e.kind === 'message');
        fc.pre(delivers.length > 0);
        const [, at] = delivers[pick % delivers.length]!;
        const mutated = history.filter((_, i) => i !== at);
        const batch = checkHistory(mutated);
        const batchTotal = batch.counts.durability + batch.counts.order;
        fc.pre(batchTotal > 0);
        const streaming = stream(mutated);
        expect(streaming.counts.durability + streaming.counts.order).toBeGreaterThan(0);
      }),
      { numRuns: 60 },
    );
  });
});

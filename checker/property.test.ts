import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { modelActions } from './test-support/model-arbitraries.js';
import type { DeliverEvent, HistoryEvent } from './history.js';
import { buildHistoryIndex, checkHistory, formatViolation, type InvariantName, type Violation } from './index.js';
import { DEVICE_COUNT, DM, GROUP, USERS, runModel, type ModelSetup, type ModelStep } from './test-support/model.js';

const action = modelActions({ roleChanges: true });

const step: fc.Arbitrary<ModelStep> = fc.record({
  action,
  dtMs: fc.oneof(fc.constant(0), fc.nat({ max: 50 }), fc.nat({ max: 200_000 })),
});

const setup: fc.Arbitrary<ModelSetup> = fc.record({
  initialMembers: fc.array(fc.boolean(), { minLength: USERS.length, maxLength: USERS.length }),
  initiallyLinked: fc.array(fc.boolean(), { minLength: DEVICE_COUNT, maxLength: DEVICE_COUNT }),
});

const run = fc.tuple(setup, fc.array(step, { minLength: 10, maxLength: 150, size: 'large' })).map(([s, steps]) => runModel(s, steps));

type Mutation = 'drop' | 'swap' | 'duplicate';

interface Mutated {
  history: HistoryEvent[];
  expected: InvariantName;
  /** Invariants that may also legitimately fire. */
  allowed: InvariantName[];
  target: { conversationId: string; userId: string; deviceId: string; seq: number };
}

/** Applies one fault to a valid model history; undefined when the history has nothing to mutate. */
function mutate(history: readonly HistoryEvent[], mutation: Mutation, pick: number): Mutated | undefined {
  const deliveries: number[] = [];
  history.forEach((e, i) => {
    if (e.type === 'deliver') deliveries.push(i);
  });
  const at = (i: number) => history[i] as DeliverEvent;
  const targetOf = (e: DeliverEvent) => ({ conversationId: e.conversationId, userId: e.userId, deviceId: e.deviceId, seq: e.seq });

  if (mutation === 'drop') {
    // Every message delivery in the model is of an acked message to a device in the final quiesce.
    const candidates = deliveries.filter((i) => at(i).kind === 'message');
    if (candidates.length === 0) return undefined;
    const i = candidates[pick % candidates.length]!;
    return {
      history: [...history.slice(0, i), ...history.slice(i + 1)],
      expected: 'durability',
      allowed: ['durability', 'order', 'receipts'],
      target: targetOf(at(i)),
    };
  }
  if (mutation === 'duplicate') {
    if (deliveries.length === 0) return undefined;
    const i = deliveries[pick % deliveries.length]!;
    const where = i + 1 + (pick % (history.length - i)); // anywhere after the original
    return {
      history: [...history.slice(0, where), { ...history[i]! }, ...history.slice(where)],
      expected: 'no-duplicates',
      allowed: ['no-duplicates'],
      target: targetOf(at(i)),
    };
  }
  // swap: two deliveries to one device in one conversation
  const pairs: Array<[number, number]> = [];
  const byStream = new Map<string, number[]>();
  for (const i of deliveries) {
    const e = at(i);
    const k = `${e.userId}/${e.deviceId}|${e.conversationId}`;
    const list = byStream.get(k) ?? [];
    list.push(i);
    byStream.set(k, list);
  }
  for (const list of byStream.values())
    for (let a = 0; a + 1 < list.length; a++) pairs.push([list[a]!, list[a + 1 + (pick % (list.length - a - 1))]!]);
  if (pairs.length === 0) return undefined;
  const [i, j] = pairs[pick % pairs.length]!;
  const out = [...history];
  [out[i], out[j]] = [out[j]!, out[i]!];
  return { history: out, expected: 'order', allowed: ['order'], target: { ...targetOf(at(i)), seq: at(i).seq } };
}

function describeAll(violations: Violation[]): string {
  return violations.map(formatViolation).join('\n\n');
}

describe('checker properties over model histories', () => {
  it('finds no violation in any valid history', () => {
    fc.assert(
      fc.property(run, (history) => {
        const result = checkHistory(history);
        expect(result.violations, describeAll(result.violations)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('finds no violation when only some users are recorded (a sampled load run)', () => {
    fc.assert(
      fc.property(run, fc.array(fc.boolean(), { minLength: USERS.length, maxLength: USERS.length }), (history, recorded) => {
        const kept = new Set<string>(USERS.filter((_, u) => recorded[u]));
        const partial = history.filter((e) => e.type === 'quiesce' || kept.has(e.userId));
        const result = checkHistory(partial);
        expect(result.violations, describeAll(result.violations)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('answers membership the same way through both timeline entry points', () => {
    fc.assert(
      fc.property(run, (history) => {
        const { timeline } = buildHistoryIndex(history);
        for (const conversationId of [GROUP, DM]) {
          for (const u of [...USERS, 'nobody']) {
            for (let seq = 1; seq <= 40; seq++) {
              expect(timeline.isMemberAt(conversationId, u, seq)).toBe(timeline.membershipAt(conversationId, u, seq).status);
            }
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('catches a single planted fault with the matching invariant', () => {
    let mutated = 0;
    fc.assert(
      fc.property(run, fc.constantFrom<Mutation>('drop', 'swap', 'duplicate'), fc.nat(), (history, mutation, pick) => {
        const m = mutate(history, mutation, pick);
        if (!m) return;
        mutated += 1;
        const result = checkHistory(m.history);
        const text = `${mutation}\n${describeAll(result.violations)}`;
        const hit = result.violations.find(
          (v) =>
            v.invariant === m.expected &&
            v.conversationId === m.target.conversationId &&
            v.userId === m.target.userId &&
            v.deviceId === m.target.deviceId &&
            v.seq === m.target.seq,
        );
        expect(hit, text).toBeDefined();
        expect(hit!.witness.length).toBeGreaterThan(0);
        for (const v of result.violations) expect(m.allowed, text).toContain(v.invariant);
      }),
      { numRuns: 400 },
    );
    expect(mutated).toBeGreaterThan(100);
  });
});

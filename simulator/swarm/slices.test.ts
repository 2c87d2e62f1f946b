import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mergeSwarmReports, SwarmMergeError } from './merge-swarm.js';
import { parseSlice, seedsOfSlice, sliceFrom } from './slices.js';
import type { SwarmReport } from './swarm.js';

/** A slice's report as a pod would write it: `failing` seeds failed, the rest passed. */
function sliceReport(run: { first: number; count: number }, index: number, count: number, failing: number[] = []): SwarmReport {
  const seeds = seedsOfSlice(run, { index, count });
  const failures = failing.filter((s) => s >= seeds.first && s < seeds.first + seeds.count);
  return {
    kind: 'sim-swarm',
    run: {
      scenario: 'swarm-small',
      scenario_file: 'scenarios/swarm-small.yaml',
      first_seed: run.first,
      seeds: run.count,
      max_faults: 4,
      kinds: ['gateway_crash'],
      plant_bug: null,
      known: [],
    },
    slice: { index, count },
    seeds,
    passed: seeds.count - failures.length,
    failed: failures.length,
    known_failures: 0,
    failures_by_invariant: failures.length > 0 ? { durability: failures.length } : {},
    failures: failures.map((seed) => ({
      seed,
      invariants: ['durability'],
      faults: [],
      reproduce: `npm run sim:swarm -- scenarios/swarm-small.yaml --seed ${seed}`,
    })),
    faults: { drawn: seeds.count * 2, by_kind: { gateway_crash: seeds.count * 2 }, seeds_with_overlap: 1 },
    shrink: { shrunk: failures.length, not_shrunk: 0, runs: failures.length * 3 },
    wall_s: 10 + index,
    slice_wall_s: 10 + index,
    seeds_per_s: seeds.count / (10 + index),
    seed_wall_ms: { mean: 200, max: 400 + index },
    parallel: 2,
    cores: 2,
    load_average: { start: 1, end: 2 + index },
    reproduce: `npm run sim:swarm -- scenarios/swarm-small.yaml --seeds ${run.count} --slice ${index}/${count}`,
    exit_code: failures.length > 0 ? 1 : 0,
  };
}

describe('seed swarm slices', () => {
  it('the slices of a run cover every seed exactly once, in consecutive blocks', () => {
    fc.assert(
      fc.property(fc.nat(1_000_000), fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 300 }), (first, count, slices) => {
        // Each slice starts where the one before ended, and the last ends at the run's end:
        // consecutive blocks that neither overlap nor leave a gap.
        let next = first;
        for (let index = 0; index < slices; index++) {
          const range = seedsOfSlice({ first, count }, { index, count: slices });
          if (range.first !== next) return false;
          if (range.count !== Math.floor(count / slices) && range.count !== Math.ceil(count / slices)) return false;
          next = range.first + range.count;
        }
        return next === first + count;
      }),
      { numRuns: 500 },
    );
    // And seed by seed for a small run.
    const seen = [0, 1, 2, 3, 4, 5, 6].flatMap((index) => {
      const r = seedsOfSlice({ first: 10, count: 23 }, { index, count: 7 });
      return Array.from({ length: r.count }, (_, i) => r.first + i);
    });
    expect(seen).toEqual(Array.from({ length: 23 }, (_, i) => 10 + i));
  });

  it('reads the slice from --slice i/n, or from JOB_COMPLETION_INDEX with --slices n', () => {
    expect(parseSlice('3/20')).toEqual({ index: 3, count: 20 });
    expect(() => parseSlice('20/20')).toThrow('0 <= i < n');
    expect(sliceFrom({ slices: '8' }, { JOB_COMPLETION_INDEX: '5' })).toEqual({ index: 5, count: 8 });
    expect(sliceFrom({}, { JOB_COMPLETION_INDEX: '5' })).toBeUndefined();
    expect(() => sliceFrom({ slices: '8' }, {})).toThrow('JOB_COMPLETION_INDEX');
    expect(() => sliceFrom({ slice: '1/2', slices: '2' }, {})).toThrow('not both');
  });

  it('merges every slice of a run into one report of all its seeds', () => {
    const run = { first: 1, count: 1003 };
    const reports = [0, 1, 2, 3].map((i) => sliceReport(run, i, 4, [7, 500, 1003]));
    const merged = mergeSwarmReports([...reports].reverse());
    expect(merged.slice).toBeNull();
    expect(merged.slices).toBe(4);
    expect(merged.seeds).toEqual({ first: 1, count: 1003 });
    expect(merged.passed + merged.failed).toBe(1003);
    expect(merged.failures.map((f) => f.seed)).toEqual([7, 500, 1003]);
    expect(merged.failures_by_invariant).toEqual({ durability: 3 });
    expect(merged.faults.drawn).toBe(2006);
    expect(merged.wall_s).toBe(13);
    expect(merged.slice_wall_s).toBe(46);
    expect(merged.exit_code).toBe(1);
    expect(merged.reproduce).toBe('npm run sim:swarm -- scenarios/swarm-small.yaml --seeds 1003');
  });

  it('a run whose failing seeds broke only --known invariants exits 0, and says how many there were', () => {
    const run = { first: 1, count: 10 };
    const known = (r: SwarmReport): SwarmReport => ({
      ...r,
      run: { ...r.run, known: ['durability'] },
      known_failures: r.failed,
      failures: r.failures.map((f) => ({ ...f, known: true })),
      exit_code: 0,
    });
    const merged = mergeSwarmReports([0, 1].map((i) => known(sliceReport(run, i, 2, [3, 8]))));
    expect(merged.failed).toBe(2);
    expect(merged.known_failures).toBe(2);
    expect(merged.exit_code).toBe(0);
    const mixed = mergeSwarmReports([
      known(sliceReport(run, 0, 2, [3])),
      { ...sliceReport(run, 1, 2, [8]), run: { ...sliceReport(run, 1, 2).run, known: ['durability'] } },
    ]);
    expect(mixed.exit_code).toBe(1);
  });

  it('refuses a missing, repeated or foreign slice, or one that does not cover its seeds', () => {
    const run = { first: 1, count: 100 };
    const all = [0, 1, 2].map((i) => sliceReport(run, i, 3));
    const code = (reports: SwarmReport[]) => {
      try {
        mergeSwarmReports(reports);
        return 'merged';
      } catch (error) {
        return (error as SwarmMergeError).code;
      }
    };
    expect(code(all)).toBe('merged');
    expect(code(all.slice(0, 2))).toBe('SWARM_INCOMPLETE');
    expect(code([...all, all[1]!])).toBe('SWARM_INCOMPLETE');
    expect(code([...all.slice(0, 2), { ...all[2]!, run: { ...all[2]!.run, plant_bug: 'idempotency-forgotten' } }])).toBe(
      'SWARM_MIXED_RUNS',
    );
    expect(code([...all.slice(0, 2), sliceReport(run, 2, 4)])).toBe('SWARM_MIXED_RUNS');
    expect(code([...all.slice(0, 2), { ...all[2]!, passed: all[2]!.passed - 1 }])).toBe('SWARM_BAD_REPORT');
  });
});

import { readFile } from 'node:fs/promises';
import { round, type SwarmReport } from './swarm.js';
import { seedsOfSlice } from './slices.js';

/** Why slices cannot be merged (exit 3). */
export class SwarmMergeError extends Error {
  constructor(
    readonly code: 'SWARM_BAD_REPORT' | 'SWARM_MIXED_RUNS' | 'SWARM_INCOMPLETE',
    message: string,
  ) {
    super(message);
  }
}

export async function readSwarmReport(path: string): Promise<SwarmReport> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new SwarmMergeError('SWARM_BAD_REPORT', `${path}: not a readable JSON file (${(error as Error).message})`);
  }
  const report = data as Partial<SwarmReport>;
  if (
    report?.kind !== 'sim-swarm' ||
    typeof report.run !== 'object' ||
    typeof report.seeds !== 'object' ||
    !Array.isArray(report.failures)
  ) {
    throw new SwarmMergeError('SWARM_BAD_REPORT', `${path}: not a sim:swarm report (kind "sim-swarm")`);
  }
  return report as SwarmReport;
}

/**
 * Merges the slices of one swarm run: every slice of the same run (scenario, seeds, schedule
 * options, planted bug) exactly once, each covering the seeds its index is owed, so that the merge
 * covers every seed of the run exactly once. Counts add up, failures are listed in seed order;
 * the wall time is the slowest slice's (slices run side by side), slice_wall_s their sum.
 */
export function mergeSwarmReports(reports: readonly SwarmReport[]): SwarmReport {
  if (reports.length === 0) throw new SwarmMergeError('SWARM_INCOMPLETE', 'no slices to merge');
  const first = reports[0]!;
  const identity = JSON.stringify(first.run);
  const count = first.slice?.count ?? 1;
  const byIndex = new Map<number, SwarmReport>();
  for (const r of reports) {
    if (JSON.stringify(r.run) !== identity) {
      throw new SwarmMergeError('SWARM_MIXED_RUNS', `slices of different runs: ${JSON.stringify(first.run)} and ${JSON.stringify(r.run)}`);
    }
    const slice = r.slice ?? { index: 0, count: 1 };
    if (slice.count !== count)
      throw new SwarmMergeError('SWARM_MIXED_RUNS', `slices of ${count} and of ${slice.count} slices in one merge`);
    if (byIndex.has(slice.index)) throw new SwarmMergeError('SWARM_INCOMPLETE', `slice ${slice.index}/${count} given twice`);
    const owed = seedsOfSlice({ first: r.run.first_seed, count: r.run.seeds }, slice);
    if (r.seeds.first !== owed.first || r.seeds.count !== owed.count || r.passed + r.failed !== owed.count) {
      throw new SwarmMergeError(
        'SWARM_BAD_REPORT',
        `slice ${slice.index}/${count} covers seeds ${r.seeds.first}+${r.seeds.count} (${r.passed + r.failed} run), owed ${owed.first}+${owed.count}`,
      );
    }
    byIndex.set(slice.index, r);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0)
    throw new SwarmMergeError('SWARM_INCOMPLETE', `missing slice(s) ${missing.map((i) => `${i}/${count}`).join(', ')} of ${count}`);

  const all = [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
  const sum = (f: (r: SwarmReport) => number) => all.reduce((total, r) => total + f(r), 0);
  const addCounts = (pick: (r: SwarmReport) => Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const r of all) for (const [k, v] of Object.entries(pick(r))) out[k] = (out[k] ?? 0) + v;
    return Object.fromEntries(Object.entries(out).sort());
  };
  const seeds = { first: first.run.first_seed, count: first.run.seeds };
  const wallS = Math.max(...all.map((r) => r.wall_s));
  const failures = all.flatMap((r) => r.failures).sort((a, b) => a.seed - b.seed);
  const seedsRun = sum((r) => r.passed + r.failed);
  return {
    kind: 'sim-swarm',
    run: first.run,
    slice: null,
    slices: count,
    seeds,
    passed: sum((r) => r.passed),
    failed: sum((r) => r.failed),
    known_failures: sum((r) => r.known_failures ?? 0),
    failures_by_invariant: addCounts((r) => r.failures_by_invariant),
    failures,
    faults: {
      drawn: sum((r) => r.faults.drawn),
      by_kind: addCounts((r) => r.faults.by_kind),
      seeds_with_overlap: sum((r) => r.faults.seeds_with_overlap),
    },
    shrink: { shrunk: sum((r) => r.shrink.shrunk), not_shrunk: sum((r) => r.shrink.not_shrunk), runs: sum((r) => r.shrink.runs) },
    wall_s: wallS,
    slice_wall_s: round(sum((r) => r.slice_wall_s)),
    seeds_per_s: round(seeds.count / Math.max(wallS, 1e-9)),
    seed_wall_ms: {
      mean: seedsRun > 0 ? Math.round(sum((r) => r.seed_wall_ms.mean * (r.passed + r.failed)) / seedsRun) : 0,
      max: Math.max(...all.map((r) => r.seed_wall_ms.max)),
    },
    parallel: sum((r) => r.parallel),
    cores: sum((r) => r.cores),
    load_average: { start: Math.max(...all.map((r) => r.load_average.start)), end: Math.max(...all.map((r) => r.load_average.end)) },
    reproduce: all[0]!.reproduce.replace(/ --slice \d+\/\d+$/, ''),
    exit_code: failures.some((f) => !f.known) ? 1 : 0,
  };
}

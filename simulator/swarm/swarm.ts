import { availableParallelism, loadavg } from 'node:os';
import type { Scenario } from '../../scenarios/format/index.js';
import type { SeedExecutor } from './executor.js';
import type { SeedOutcome } from './run-seed.js';
import { DEFAULT_MAX_FAULTS, SWARM_KINDS, drawSchedule, type ScheduleOptions, type SwarmFault } from './schedule.js';
import { shrinkSchedule } from './shrink.js';
import { formatSlice, seedsOfSlice, type SeedRange, type SwarmSlice } from './slices.js';

/** What identifies a swarm run: every slice of it has the same (merge refuses a mix). */
export interface SwarmRunIdentity {
  scenario: string;
  scenario_file: string;
  first_seed: number;
  seeds: number;
  max_faults: number;
  kinds: string[];
  plant_bug: string | null;
  /** Invariants whose failures are known findings: listed, but they do not fail the run. */
  known: string[];
}

export interface ShrunkSchedule {
  /** The invariant the shrinking kept failing (the headline of the seed's; see headlineOf). */
  for: string;
  /** Indexes into the seed's drawn schedule. */
  kept: number[];
  faults: SwarmFault[];
  invariants: string[];
  message?: string;
  reproduce: string;
  /** Seeds re-run while shrinking. */
  runs: number;
  /** The run budget ran out first: smaller than drawn, perhaps not minimal. */
  exhausted: boolean;
}

export interface SwarmFailure {
  seed: number;
  invariants: string[];
  /** Every invariant it broke is a known one (--known): reported, not failing the run. */
  known?: boolean;
  message?: string;
  faults: SwarmFault[];
  reproduce: string;
  shrunk?: ShrunkSchedule;
}

/** A swarm run's result (`--json`): one slice's, or the merge of all of them. */
export interface SwarmReport {
  kind: 'sim-swarm';
  run: SwarmRunIdentity;
  /** The slice this report covers; null for a whole run (or a merge of its slices). */
  slice: { index: number; count: number } | null;
  /** The merged slices' count (merges only). */
  slices?: number;
  /** The seeds this report covers. */
  seeds: SeedRange;
  passed: number;
  failed: number;
  /** Of the failed seeds, those that broke only --known invariants. */
  known_failures: number;
  failures_by_invariant: Record<string, number>;
  failures: SwarmFailure[];
  faults: {
    /** Entries drawn over all seeds, and per kind. */
    drawn: number;
    by_kind: Record<string, number>;
    /** Seeds whose schedule has two entries active at the same moment. */
    seeds_with_overlap: number;
  };
  shrink: { shrunk: number; not_shrunk: number; runs: number };
  /** Wall time of the seeds (and the shrinking); for a merge, the slowest slice's. */
  wall_s: number;
  /** Sum of the slices' wall times (merges), = wall_s for one slice. */
  slice_wall_s: number;
  seeds_per_s: number;
  seed_wall_ms: { mean: number; max: number };
  parallel: number;
  cores: number;
  /** 1-minute load average when the run started and when it ended (for a merge, the slices' highest). */
  load_average: { start: number; end: number };
  reproduce: string;
  exit_code: 0 | 1;
}

export interface SwarmOptions {
  scenario: Scenario;
  /** The scenario's path as given on the command line (for reproduce commands). */
  scenarioFile: string;
  /** The whole run's seeds (a slice runs its part of them). */
  seeds: SeedRange;
  slice?: SwarmSlice | undefined;
  schedule: ScheduleOptions;
  plantBug?: string | undefined;
  /** Invariants whose failures are known findings (reported, exit 0 when nothing else fails). */
  known?: readonly string[] | undefined;
  /** Failing seeds to shrink (the first of each kind of failure first, then in seed order); 0 = none. */
  shrinkMax: number;
  /** Re-runs allowed per shrunk seed. */
  shrinkRuns: number;
  onProgress?: (p: SwarmProgress) => void;
}

export interface SwarmProgress {
  phase: 'seeds' | 'shrinking';
  done: number;
  total: number;
  failed: number;
  wallS: number;
}

/** The command that runs one seed of the swarm again (with `kept`, only those entries of its schedule). */
export function seedCommand(
  options: Pick<SwarmOptions, 'scenarioFile' | 'schedule' | 'plantBug'>,
  seed: number,
  kept?: readonly number[],
): string {
  const parts = ['npm run sim:swarm --', options.scenarioFile, '--seed', String(seed)];
  parts.push(...scheduleFlags(options));
  if (kept) parts.push('--faults', kept.length > 0 ? kept.join(',') : 'none');
  return parts.join(' ');
}

/** The flags that change what a seed draws, as given (defaults left out). */
export function scheduleFlags(options: Pick<SwarmOptions, 'schedule' | 'plantBug'>): string[] {
  const parts: string[] = [];
  if (options.schedule.maxFaults !== DEFAULT_MAX_FAULTS) parts.push('--max-faults', String(options.schedule.maxFaults));
  if (!sameKinds(options.schedule.kinds, SWARM_KINDS)) parts.push('--kinds', options.schedule.kinds.join(','));
  if (options.plantBug !== undefined) parts.push('--plant-bug', options.plantBug);
  return parts;
}

function sameKinds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((k) => b.includes(k));
}

/**
 * What a failing seed is shrunk for when it broke several invariants: the checker's own first (a
 * lost or reordered message before a receipt or presence slip), then liveness, then the run's own
 * troubles. One invariant, so that shrinking does not slide from the failure found to an easier one.
 */
const HEADLINE_ORDER = [
  'durability',
  'order',
  'no-duplicates',
  'membership',
  'receipts',
  'presence',
  'liveness',
  'unhandled-rejection',
  'simulator-error',
  'simulator-timeout',
];
export function headlineOf(invariants: readonly string[]): string {
  const rank = (name: string) => {
    const i = HEADLINE_ORDER.indexOf(name);
    return i < 0 ? HEADLINE_ORDER.length : i;
  };
  return [...invariants].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))[0] ?? 'unknown';
}

/** What --known may name: the checker's invariants and the swarm's own kinds of failure. */
export const FAILURE_NAMES = [...HEADLINE_ORDER];

/** `--known a,b`: names of FAILURE_NAMES. */
export function parseKnown(text: string): string[] {
  const names = text
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  const unknown = names.filter((n) => !FAILURE_NAMES.includes(n));
  if (names.length === 0 || unknown.length > 0)
    throw new RangeError(`--known takes a comma-separated list of ${FAILURE_NAMES.join(', ')}; got "${text}"`);
  return [...new Set(names)].sort();
}

/** Whether two entries of a schedule are active at the same moment (a crash that stays down lasts to the end). */
export function hasOverlap(schedule: readonly SwarmFault[], lengthS: number): boolean {
  const end = (f: SwarmFault) => (f.duration_s === 0 ? lengthS : f.at_s + f.duration_s);
  for (let i = 0; i < schedule.length; i++)
    for (let j = i + 1; j < schedule.length; j++)
      if (schedule[j]!.at_s < end(schedule[i]!) && schedule[i]!.at_s < end(schedule[j]!)) return true;
  return false;
}

/**
 * Runs the seeds (of the slice) with their drawn schedules on the executor, collects the failing
 * ones and shrinks them. Deterministic: the same options give the same failures, schedules and
 * shrunk schedules, whatever the executor's size.
 */
export async function runSwarm(options: SwarmOptions, executor: SeedExecutor): Promise<SwarmReport> {
  const started = performance.now();
  const loadStart = loadavg()[0]!;
  const range = options.slice ? seedsOfSlice(options.seeds, options.slice) : options.seeds;
  const byKind: Record<string, number> = {};
  let drawn = 0;
  let overlapping = 0;
  const outcomes: Array<{ outcome: SeedOutcome; schedule: SwarmFault[] }> = [];
  let done = 0;
  let failedSoFar = 0;
  let lastProgress = 0;
  const progress = (phase: SwarmProgress['phase'], total: number, force = false) => {
    const now = performance.now();
    if (!options.onProgress || (!force && now - lastProgress < 1_000)) return;
    lastProgress = now;
    options.onProgress({ phase, done, total, failed: failedSoFar, wallS: (now - started) / 1000 });
  };

  let next = 0;
  const lane = async () => {
    while (next < range.count) {
      const seed = range.first + next++;
      const schedule = drawSchedule(options.scenario, seed, options.schedule);
      drawn += schedule.length;
      for (const f of schedule) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
      if (hasOverlap(schedule, options.scenario.duration_s)) overlapping++;
      const outcome = await executor.run({ seed, schedule, ...(options.plantBug !== undefined ? { plantBug: options.plantBug } : {}) });
      outcomes.push({ outcome, schedule });
      done++;
      if (outcome.failed) failedSoFar++;
      progress('seeds', range.count);
    }
  };
  // Two seeds in flight per worker: the next one is waiting the moment a worker is free.
  await Promise.all(Array.from({ length: Math.max(1, executor.size * 2) }, lane));
  progress('seeds', range.count, true);
  outcomes.sort((a, b) => a.outcome.seed - b.outcome.seed);

  const failing = outcomes.filter((o) => o.outcome.failed);
  const known = new Set(options.known ?? []);
  const failures: SwarmFailure[] = failing.map(({ outcome, schedule }) => ({
    seed: outcome.seed,
    invariants: outcome.invariants,
    ...(known.size > 0 && outcome.invariants.every((name) => known.has(name)) ? { known: true } : {}),
    ...(outcome.message !== undefined ? { message: outcome.message } : {}),
    faults: schedule,
    reproduce: seedCommand(options, outcome.seed),
  }));

  // Shrink: the first failure of each kind first (unknown ones before known ones), then the rest in seed order, up to shrinkMax.
  const signature = (f: SwarmFailure) => f.invariants.join('+');
  const seen = new Set<string>();
  const firsts: SwarmFailure[] = [];
  const rest: SwarmFailure[] = [];
  for (const f of failures) {
    if (seen.has(signature(f))) rest.push(f);
    else firsts.push(f);
    seen.add(signature(f));
  }
  const byKnown = (list: SwarmFailure[]) => [...list.filter((f) => !f.known), ...list.filter((f) => f.known)];
  const toShrink = [...byKnown(firsts), ...byKnown(rest)].slice(0, options.shrinkMax);
  let shrinkRuns = 0;
  let shrunkDone = 0;
  done = 0;
  await Promise.all(
    toShrink.map(async (failure) => {
      const tried = new Map<string, SeedOutcome>();
      const headline = headlineOf(failure.invariants);
      const result = await shrinkSchedule(
        failure.faults.length,
        async (kept) => {
          const outcome = await executor.run({
            seed: failure.seed,
            schedule: kept.map((i) => failure.faults[i]!),
            ...(options.plantBug !== undefined ? { plantBug: options.plantBug } : {}),
          });
          tried.set(kept.join(','), outcome);
          // Still the same failure: the headline invariant of the whole schedule's.
          return outcome.invariants.includes(headline);
        },
        { maxRuns: options.shrinkRuns, batch: executor.size },
      );
      const last = tried.get(result.kept.join(','));
      const invariants = last ? last.invariants : failure.invariants;
      const message = last ? last.message : failure.message;
      failure.shrunk = {
        for: headline,
        kept: result.kept,
        faults: result.kept.map((i) => failure.faults[i]!),
        invariants,
        ...(message !== undefined ? { message } : {}),
        reproduce: seedCommand(options, failure.seed, result.kept),
        runs: result.runs,
        exhausted: result.exhausted,
      };
      shrinkRuns += result.runs;
      shrunkDone++;
      done = shrunkDone;
      progress('shrinking', toShrink.length);
    }),
  );

  const wallS = (performance.now() - started) / 1000;
  const failuresByInvariant: Record<string, number> = {};
  for (const f of failures) for (const name of f.invariants) failuresByInvariant[name] = (failuresByInvariant[name] ?? 0) + 1;
  const seedWall = outcomes.map((o) => o.outcome.wallMs);
  return {
    kind: 'sim-swarm',
    run: runIdentity(options),
    slice: options.slice ? { index: options.slice.index, count: options.slice.count } : null,
    seeds: range,
    passed: outcomes.length - failures.length,
    failed: failures.length,
    known_failures: failures.filter((f) => f.known).length,
    failures_by_invariant: failuresByInvariant,
    failures,
    faults: { drawn, by_kind: Object.fromEntries(Object.entries(byKind).sort()), seeds_with_overlap: overlapping },
    shrink: { shrunk: toShrink.length, not_shrunk: failures.length - toShrink.length, runs: shrinkRuns },
    wall_s: round(wallS),
    slice_wall_s: round(wallS),
    seeds_per_s: round(range.count / Math.max(wallS, 1e-9)),
    seed_wall_ms: {
      mean: seedWall.length > 0 ? Math.round(seedWall.reduce((a, b) => a + b, 0) / seedWall.length) : 0,
      max: Math.max(0, ...seedWall),
    },
    parallel: executor.size,
    cores: availableParallelism(),
    load_average: { start: round(loadStart), end: round(loadavg()[0]!) },
    reproduce: swarmCommand(options),
    exit_code: failures.some((f) => !f.known) ? 1 : 0,
  };
}

export function runIdentity(
  options: Pick<SwarmOptions, 'scenario' | 'scenarioFile' | 'seeds' | 'schedule' | 'plantBug' | 'known'>,
): SwarmRunIdentity {
  return {
    scenario: options.scenario.name,
    scenario_file: options.scenarioFile,
    first_seed: options.seeds.first,
    seeds: options.seeds.count,
    max_faults: options.schedule.maxFaults,
    kinds: [...options.schedule.kinds],
    plant_bug: options.plantBug ?? null,
    known: [...(options.known ?? [])].sort(),
  };
}

/** The command that runs this swarm (or this slice of it) again. */
export function swarmCommand(options: Pick<SwarmOptions, 'scenarioFile' | 'seeds' | 'slice' | 'schedule' | 'plantBug' | 'known'>): string {
  const parts = ['npm run sim:swarm --', options.scenarioFile, '--seeds', String(options.seeds.count)];
  if (options.seeds.first !== 1) parts.push('--first-seed', String(options.seeds.first));
  parts.push(...scheduleFlags(options));
  if (options.known && options.known.length > 0) parts.push('--known', [...options.known].sort().join(','));
  if (options.slice) parts.push('--slice', formatSlice(options.slice));
  return parts.join(' ');
}

export function round(n: number): number {
  return Math.round(n * 100) / 100;
}

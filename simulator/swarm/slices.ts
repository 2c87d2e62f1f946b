/*
 * Slicing the seeds of a swarm run across jobs (a Kubernetes Indexed Job: one pod per slice).
 * The run's seeds are first … first + count − 1; slice i of n takes a consecutive block of them,
 * the first (count mod n) slices one seed more, so the slices cover every seed exactly once.
 */

export interface SwarmSlice {
  index: number;
  count: number;
}

export interface SeedRange {
  /** The first seed of the range. */
  first: number;
  /** How many seeds, from `first` on. */
  count: number;
}

export class SwarmArgumentError extends Error {
  readonly code = 'SWARM_BAD_ARGUMENTS';
}

/** `i/n` with 0 ≤ i < n. */
export function parseSlice(text: string): SwarmSlice {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index >= count) {
    throw new SwarmArgumentError(`--slice takes i/n with 0 <= i < n (e.g. 3/20), got "${text}"`);
  }
  return { index, count };
}

/**
 * The slice this process runs: `--slice i/n`, or `--slices n` with i from JOB_COMPLETION_INDEX
 * (what Kubernetes sets in each pod of an Indexed Job); none when neither is given.
 */
export function sliceFrom(
  options: { slice?: string | undefined; slices?: string | undefined },
  env: NodeJS.ProcessEnv,
): SwarmSlice | undefined {
  if (options.slice !== undefined && options.slices !== undefined)
    throw new SwarmArgumentError('give --slice i/n or --slices n (with JOB_COMPLETION_INDEX), not both');
  if (options.slice !== undefined) return parseSlice(options.slice);
  if (options.slices === undefined) return undefined;
  const index = env.JOB_COMPLETION_INDEX;
  if (index === undefined || index === '')
    throw new SwarmArgumentError('--slices n takes the slice index from JOB_COMPLETION_INDEX, which is not set (or give --slice i/n)');
  return parseSlice(`${index}/${options.slices}`);
}

/** The seeds slice `slice` of the run's range holds (possibly none, when there are more slices than seeds). */
export function seedsOfSlice(run: SeedRange, slice: SwarmSlice): SeedRange {
  const base = Math.floor(run.count / slice.count);
  const extra = run.count % slice.count;
  const count = base + (slice.index < extra ? 1 : 0);
  const first = run.first + slice.index * base + Math.min(slice.index, extra);
  return { first, count };
}

export function formatSlice(slice: SwarmSlice): string {
  return `${slice.index}/${slice.count}`;
}

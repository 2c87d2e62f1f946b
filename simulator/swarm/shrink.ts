/*
 * Shrinking a failing schedule: delta debugging (ddmin) over the indexes of its entries. The
 * schedule is cut into n parts; a part that fails alone replaces it, else a schedule without one
 * part that still fails does; else the parts are made finer, down to single entries. What is left
 * is 1-minimal: dropping any one of its entries makes the seed pass. The empty schedule is tried
 * first (a seed that fails without faults needs none).
 */

export interface ShrinkOptions {
  /** Runs allowed in all; when spent the smallest failing set found so far is returned. */
  maxRuns: number;
  /** Candidates tried at once (the worker pool's size); the first failing one in order wins, so the result does not depend on it. */
  batch: number;
}

export interface ShrinkResult {
  /** Indexes (ascending) of the entries kept: the smallest failing schedule found. */
  kept: number[];
  /** Runs made (cached repeats not counted). */
  runs: number;
  /** The budget ran out before the schedule was 1-minimal. */
  exhausted: boolean;
}

/** `fails(kept)` re-runs the seed with only the entries at those indexes and says whether it still fails. */
export async function shrinkSchedule(
  count: number,
  fails: (kept: number[]) => Promise<boolean>,
  options: ShrinkOptions,
): Promise<ShrinkResult> {
  const cache = new Map<string, boolean>();
  let runs = 0;
  let exhausted = false;
  /** The first candidate, in order, that fails; undefined when none does (or the budget is spent). */
  const firstFailing = async (candidates: number[][]): Promise<number[] | undefined> => {
    for (let from = 0; from < candidates.length; from += Math.max(1, options.batch)) {
      const batch = candidates.slice(from, from + Math.max(1, options.batch));
      const verdicts = await Promise.all(
        batch.map(async (kept) => {
          const key = kept.join(',');
          const known = cache.get(key);
          if (known !== undefined) return known;
          if (runs >= options.maxRuns) {
            exhausted = true;
            return false;
          }
          runs++;
          const verdict = await fails(kept);
          cache.set(key, verdict);
          return verdict;
        }),
      );
      const hit = verdicts.indexOf(true);
      if (hit >= 0) return batch[hit];
    }
    return undefined;
  };

  let current = Array.from({ length: count }, (_, i) => i);
  cache.set(current.join(','), true);
  if (count === 0) return { kept: [], runs, exhausted };
  if (await firstFailing([[]])) return { kept: [], runs, exhausted };
  let parts = 2;
  while (current.length >= 2 && !exhausted) {
    const chunks = split(current, parts);
    const alone = await firstFailing(chunks);
    if (alone) {
      current = alone;
      parts = 2;
      continue;
    }
    const without = parts > 2 ? await firstFailing(chunks.map((_, i) => chunks.filter((__, j) => j !== i).flat())) : undefined;
    if (without) {
      current = without;
      parts = Math.max(parts - 1, 2);
      continue;
    }
    if (parts >= current.length) break;
    parts = Math.min(parts * 2, current.length);
  }
  return { kept: current, runs, exhausted };
}

/** `items` cut into `parts` consecutive pieces of (nearly) equal size. */
export function split<T>(items: readonly T[], parts: number): T[][] {
  const out: T[][] = [];
  const base = Math.floor(items.length / parts);
  const extra = items.length % parts;
  let at = 0;
  for (let i = 0; i < parts; i++) {
    const size = base + (i < extra ? 1 : 0);
    if (size > 0) out.push(items.slice(at, at + size));
    at += size;
  }
  return out;
}

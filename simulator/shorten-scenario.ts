import type { Scenario } from '../scenarios/format/index.js';

/**
 * The scenario cut to its first `durationS` simulated seconds (a quick run, a CI slice): the
 * warm-up at most half of it, the faults that start after the end dropped.
 */
export function shortenScenario(scenario: Scenario, durationS: number): Scenario {
  return { ...scenario, duration_s: durationS, warmup_s: Math.min(scenario.warmup_s, durationS / 2), faults: scenario.faults.filter((f) => f.at_s < durationS) };
}

/** Wall time for progress lines: "42 s", "3 min 7 s". */
export function formatDuration(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

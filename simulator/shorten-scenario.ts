import { defaultTargetOf, type Scenario, type ScheduledFault } from '../scenarios/format/index.js';

/**
 * The scenario cut to its first `durationS` simulated seconds (a quick run, a CI slice): the
 * warm-up at most half of it, the faults that start after the end dropped. What that leaves out
 * is said by shorteningNotes(): a shortened run must not pass in silence without its faults.
 */
export function shortenScenario(scenario: Scenario, durationS: number): Scenario {
  return {
    ...scenario,
    duration_s: durationS,
    warmup_s: Math.min(scenario.warmup_s, durationS / 2),
    faults: scenario.faults.filter((f) => f.at_s < durationS),
  };
}

/**
 * One note per scheduled fault that `--duration-s` drops (it starts at or after the new end) or
 * cuts short (it would still be active at the new end, where the liveness phase heals it).
 */
export function shorteningNotes(scenario: Scenario, durationS: number): string[] {
  const notes: string[] = [];
  const name = (f: ScheduledFault) => `${f.kind} on ${f.target ?? defaultTargetOf(f.kind)} at ${f.at_s} s`;
  for (const f of scenario.faults) {
    if (f.at_s >= durationS) notes.push(`--duration-s ${durationS} dropped the fault ${name(f)}: this run does not exercise it`);
    else if (f.duration_s === 0 || f.at_s + f.duration_s > durationS) {
      notes.push(
        `--duration-s ${durationS} cut short the fault ${name(f)} (${f.duration_s === 0 ? 'permanent' : `${f.duration_s} s`}): it is healed at ${durationS} s`,
      );
    }
  }
  return notes;
}

/** Wall time for progress lines: "42 s", "3 min 7 s". */
export function formatDuration(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

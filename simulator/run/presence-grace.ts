import { DEFAULT_PRESENCE_GRACE_MS } from '../../checker/options.js';
import type { PlannedFault } from '../faults/fault-plan.js';

/**
 * The checker's presence grace for a run: its slack for propagation delay (the default), plus the
 * most delay the run's own network_latency faults add at one moment. A presence change crosses
 * those links (the subject's, the store's, the watcher's), so a run that slows them by 2.5 s
 * cannot be held to a 2 s slack; without such faults the grace is the default.
 */
export function presenceGraceMsFor(faults: readonly PlannedFault[]): number {
  const steps: Array<{ atS: number; deltaMs: number }> = [];
  for (const f of faults) {
    if (f.kind !== 'network_latency' || !f.extraLatencyMs) continue;
    steps.push({ atS: f.atS, deltaMs: f.extraLatencyMs }, { atS: f.atS + f.durationS, deltaMs: -f.extraLatencyMs });
  }
  // Ends before starts at the same instant: faults that only touch do not add up.
  steps.sort((a, b) => a.atS - b.atS || a.deltaMs - b.deltaMs);
  let nowMs = 0;
  let peakMs = 0;
  for (const step of steps) {
    nowMs += step.deltaMs;
    peakMs = Math.max(peakMs, nowMs);
  }
  return DEFAULT_PRESENCE_GRACE_MS + peakMs;
}

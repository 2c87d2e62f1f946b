import type { LineSegment } from '../cli/progress-line.js';
import type { SimProgress } from './run-simulation.js';
import { formatDuration } from './shorten-scenario.js';

/** Between the simulator's progress segments. */
export const SIM_PROGRESS_SEPARATOR = ' · ';

/**
 * The simulator's progress line, e.g. `safety · sim 12.0/60 s · 48k events/s · ×3.10 real time ·
 * ETA ≤ 16 s`. Where the run is and when it ends matter most at a narrow width.
 */
export function simProgressSegments(p: SimProgress): LineSegment[] {
  const ratio = p.simulatedS / Math.max(1e-9, p.wallS);
  const etaS = ratio > 0 ? (p.totalS - p.simulatedS) / ratio : 0;
  return [
    {
      text: `${p.phase} · sim ${p.simulatedS.toFixed(1)}/${p.totalS} s`,
      short: `${p.phase} ${p.simulatedS.toFixed(1)}/${p.totalS} s`,
      priority: 9,
    },
    { text: `${Math.round(p.eventsPerS / 1000)}k events/s`, priority: 2 },
    { text: `×${ratio.toFixed(2)} real time`, priority: 3 },
    { text: `ETA ≤ ${formatDuration(etaS)}`, priority: 8 },
  ];
}

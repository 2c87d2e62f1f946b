import { progressLinePrinter, type LineSegment, type ProgressPrinter, type ProgressStream } from '../cli/progress-line.js';
import type { LoadProgress } from './types.js';

const fmt = (n: number | null, digits = 1) => (n === null ? '-' : n.toFixed(digits));

/**
 * The parts of the live display, e.g. `traffic  12/30 s  conn 312/400  offered 40/s  sent 480 …`.
 * Errors and the p99 are what a reader watches for: at 80 columns the counts go first.
 */
export function progressSegments(p: LoadProgress): LineSegment[] {
  const at = `${String(Math.max(0, Math.round(p.elapsedS))).padStart(4)}/${p.durationS} s`;
  return [
    { text: `${p.phase.padEnd(7)} ${at}`, short: `${p.phase} ${at.trim()}`, priority: 9 },
    { text: `conn ${p.connections}/${p.devices}`, priority: 5 },
    { text: `offered ${fmt(p.offeredPerS)}/s`, short: `offered ${fmt(p.offeredPerS, 0)}/s`, priority: 3 },
    { text: `sent ${p.sent}`, priority: 2 },
    { text: `acked ${p.acked}`, priority: 1 },
    { text: `delivered ${p.delivered}`, short: `dlvd ${p.delivered}`, priority: 4 },
    { text: `errors ${p.errors}`, short: `err ${p.errors}`, priority: 8 },
    { text: `deliver p99 (1 s) ${fmt(p.deliverP99MsWindow)} ms`, short: `p99 ${fmt(p.deliverP99MsWindow)} ms`, priority: 7 },
  ];
}

/** One line of the live display, every part. */
export function formatProgress(p: LoadProgress): string {
  return progressSegments(p)
    .map((s) => s.text)
    .join('  ');
}

/**
 * Progress on stderr: rewritten in place within the terminal's width on a terminal, one line
 * every `everyS` seconds otherwise (CI logs stay short, no carriage returns).
 */
export function progressPrinter(stream: ProgressStream, everyS = 5): ProgressPrinter<LoadProgress> {
  return progressLinePrinter(stream, progressSegments, { plainEveryS: everyS });
}

import { describe, expect, it } from 'vitest';
import { formatProgress, progressPrinter, progressSegments } from '../load/progress.js';
import type { LoadProgress } from '../load/types.js';
import { SIM_PROGRESS_SEPARATOR, simProgressSegments } from '../simulator/sim-progress.js';
import { fitSegments, progressLinePrinter, type ProgressStream } from './progress-line.js';

const load: LoadProgress = {
  phase: 'traffic',
  elapsedS: 12.2,
  durationS: 300,
  connections: 31_200,
  devices: 40_000,
  sent: 1_480_123,
  acked: 1_479_998,
  delivered: 3_900_456,
  errors: 17,
  offeredPerS: 4_000,
  deliverP99MsWindow: 231.5,
};

function fakeStream(isTTY: boolean, columns?: number): ProgressStream & { out: string } {
  const s = { isTTY, out: '', write: (text: string) => (s.out += text) } as ProgressStream & { out: string };
  if (columns !== undefined) s.columns = columns;
  return s;
}

describe('progress lines', () => {
  it('fit the terminal, keeping the errors and the p99 when the counts must go', () => {
    expect(formatProgress(load).length).toBeGreaterThan(80);
    for (const width of [79, 60, 50]) {
      const line = fitSegments(progressSegments(load), width);
      expect(line.length, line).toBeLessThanOrEqual(width);
      expect(line).toMatch(/err(ors)? 17/);
      expect(line).toMatch(/p99 (\(1 s\) )?231\.5 ms/);
      expect(line).toMatch(/^traffic +12\/300 s/);
    }
    // Wide enough: everything, in order.
    expect(fitSegments(progressSegments(load), 200)).toBe(formatProgress(load));
  });

  it('cut what still does not fit with an ellipsis, never past the width', () => {
    const line = fitSegments([{ text: 'x'.repeat(50), priority: 1 }], 20);
    expect(line).toBe(`${'x'.repeat(19)}…`);
  });

  it('rewrite in place on a terminal, one column short of its width', () => {
    const tty = fakeStream(true, 80);
    const printer = progressPrinter(tty);
    printer.update(load);
    printer.update({ ...load, elapsedS: 13 });
    printer.end();
    const updates = tty.out.split('\r').filter((u) => u !== '');
    expect(updates).toHaveLength(2);
    for (const u of updates) expect(u.replace('\x1b[K', '').replace('\n', '').length).toBeLessThanOrEqual(79);
    expect(tty.out.endsWith('\n')).toBe(true);
  });

  it('print a plain line every few seconds when not on a terminal, with no carriage return', () => {
    const log = fakeStream(false);
    let nowMs = 0;
    const printer = progressLinePrinter(log, progressSegments, { plainEveryS: 5, nowMs: () => nowMs });
    for (let s = 0; s <= 12; s++) {
      nowMs = s * 1000;
      printer.update({ ...load, elapsedS: s });
    }
    printer.end();
    expect(log.out).not.toContain('\r');
    const lines = log.out.trimEnd().split('\n');
    expect(lines).toHaveLength(3); // at 0, 5 and 10 s
    expect(lines[0]).toBe(formatProgress({ ...load, elapsedS: 0 }));
  });

  it('keep the simulator’s phase, position and ETA at 48 columns, and cut at 30', () => {
    const sim = simProgressSegments({ simulatedS: 1234.5, totalS: 3630, phase: 'safety', events: 9e6, eventsPerS: 48_000, wallS: 400 });
    expect(fitSegments(sim, 200, SIM_PROGRESS_SEPARATOR)).toBe(
      'safety · sim 1234.5/3630 s · 48k events/s · ×3.09 real time · ETA ≤ 12 min 56 s',
    );
    expect(fitSegments(sim, 48, SIM_PROGRESS_SEPARATOR)).toBe('safety 1234.5/3630 s · ETA ≤ 12 min 56 s');
    expect(fitSegments(sim, 30, SIM_PROGRESS_SEPARATOR).length).toBeLessThanOrEqual(30);
  });
});

import type { LoadSample } from '../../load/run-load.js';
import type { FaultReport } from '../run-drill.js';

/** At most this many rows: a longer run is shown in coarser steps. */
export const TIMELINE_ROWS_MAX = 60;

const cell = (value: number | null, width: number) => (value === null ? '-' : String(Math.round(value))).padStart(width);

/**
 * The drill's timeline as text: one row per step with offered, delivered and error rates and the
 * deliver p99, and a marks column saying where each fault was injected (▼), healed (▲) and
 * recovered (✓). Rates of a multi-second step are averages; p99 is the worst second's.
 */
export function formatTimeline(samples: readonly LoadSample[], faults: readonly FaultReport[]): string {
  // The settle phase offers nothing; once deliveries stop too, the rest is idle waiting.
  let last = samples.length - 1;
  while (last > 0 && samples[last]!.offeredPerS === 0 && samples[last]!.deliveredPerS === 0) last--;
  samples = samples.slice(0, last + 1);
  if (samples.length === 0) return 'timeline: no samples';
  const stepS = Math.max(1, Math.ceil(samples.length / TIMELINE_ROWS_MAX));
  const lines = [
    `timeline (${stepS} s per row; ▼ fault injected, ▲ healed, ✓ recovered)`,
    '     t   offered  delivered  errors  refused  p99 ms  connections  marks',
  ];
  for (let i = 0; i < samples.length; i += stepS) {
    const step = samples.slice(i, i + stepS);
    const fromS = step[0]!.atS - 1;
    const toS = step[step.length - 1]!.atS;
    const mean = (pick: (s: LoadSample) => number) => step.reduce((sum, s) => sum + pick(s), 0) / step.length;
    const p99s = step.map((s) => s.deliverP99Ms).filter((v): v is number => v !== null);
    const marks: string[] = [];
    for (const f of faults) {
      const name = `${f.kind} ${f.target}`;
      const inStep = (t: number | null) => t !== null && t > fromS && t <= toS;
      if (inStep(f.at_s)) marks.push(`▼ ${name}`);
      if (inStep(f.healed_s)) marks.push(`▲ ${name}`);
      if (inStep(f.recovered_s)) marks.push(`✓ ${name}`);
    }
    lines.push(
      `${toS.toFixed(0).padStart(6)}  ${cell(
        mean((s) => s.offeredPerS),
        8,
      )}  ${cell(
        mean((s) => s.deliveredPerS),
        9,
      )}  ${cell(
        mean((s) => s.errorsPerS),
        6,
      )}  ${cell(
        mean((s) => s.refusedPerS),
        7,
      )}  ${cell(p99s.length > 0 ? Math.max(...p99s) : null, 6)}  ${cell(step[step.length - 1]!.connections, 11)}  ${marks.join(', ')}`,
    );
  }
  return lines.join('\n');
}

/** One line per fault: when, how, and how long recovery took. */
export function formatFaults(faults: readonly FaultReport[]): string {
  if (faults.length === 0) return 'faults: none injected';
  const lines = ['recovery'];
  for (const f of faults) {
    const healed = f.healed_s === null ? 'never healed' : `healed ${f.healed_s} s`;
    const recovered =
      f.time_to_recover_s === null
        ? 'NOT RECOVERED while the load ran'
        : `recovered ${f.recovered_s} s: ${f.time_to_recover_s} s after it was ${f.recovery_measured_from}`;
    lines.push(`  ${f.kind} ${f.target}: injected ${f.at_s} s, ${healed}, ${recovered}`);
    lines.push(`    how: ${f.how}${f.error ? `; ERROR ${f.error}` : ''}`);
  }
  return lines.join('\n');
}

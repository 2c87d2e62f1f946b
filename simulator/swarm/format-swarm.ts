import { formatFault, type SwarmFault } from './schedule.js';
import type { SwarmReport } from './swarm.js';

const FIRST_LINE_MAX = 220;

function firstLine(text: string | undefined): string {
  const line = (text ?? '').split('\n')[0]!;
  return line.length > FIRST_LINE_MAX ? `${line.slice(0, FIRST_LINE_MAX - 1)}…` : line;
}

function seedsText(range: { first: number; count: number }): string {
  return range.count === 0 ? 'none' : range.count === 1 ? `${range.first}` : `${range.first}–${range.first + range.count - 1}`;
}

/** A schedule as `[0] gateway_crash gateway-1 at 2.3 s for 1.5 s; [1] …`, with its indexes (what --faults takes). */
export function formatSchedule(faults: readonly SwarmFault[], indexes?: readonly number[]): string {
  if (faults.length === 0) return 'no faults';
  return faults.map((f, i) => `[${indexes?.[i] ?? i}] ${formatFault(f)}`).join('; ');
}

/** The swarm's report as text: the figures, then every failing seed with its schedule, its shrunk schedule and its command. */
export function formatSwarmReport(report: SwarmReport, options: { maxListed?: number } = {}): string {
  const run = report.run;
  const lines: string[] = [];
  const slice = report.slice
    ? ` · slice ${report.slice.index}/${report.slice.count}: seeds ${seedsText(report.seeds)}`
    : report.slices
      ? ` · merged from ${report.slices} slices`
      : '';
  const kinds = run.kinds.length === 0 ? 'none' : run.kinds.join(', ');
  lines.push(
    `sim:swarm ${run.scenario} · seeds ${seedsText({ first: run.first_seed, count: run.seeds })}${slice} · 1–${run.max_faults} drawn faults per seed of ${kinds}${run.plant_bug ? ` · planted bug: ${run.plant_bug}` : ''}`,
  );
  const ran = report.passed + report.failed;
  lines.push(
    `  ${ran} seeds in ${report.wall_s} s wall (${report.seeds_per_s} seeds/s; ${report.parallel} at a time on ${report.cores} cores; load average ${report.load_average.start} → ${report.load_average.end})` +
      ` · a seed ${report.seed_wall_ms.mean} ms on average, the slowest ${report.seed_wall_ms.max} ms`,
  );
  const kindCounts = Object.entries(report.faults.by_kind)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  lines.push(`  faults drawn: ${report.faults.drawn} (${kindCounts}) · seeds with faults overlapping: ${report.faults.seeds_with_overlap}`);
  const byInvariant = Object.entries(report.failures_by_invariant)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const known =
    report.known_failures > 0 ? `; ${report.known_failures} of them only ${report.run.known.join(', ')} (known, not failing the run)` : '';
  lines.push(`  passed ${report.passed} · failed ${report.failed}${report.failed > 0 ? ` (${byInvariant})` : ''}${known}`);
  if (report.shrink.shrunk > 0 || report.shrink.not_shrunk > 0) {
    lines.push(
      `  shrunk ${report.shrink.shrunk} failing schedule(s) in ${report.shrink.runs} re-runs${report.shrink.not_shrunk > 0 ? `; ${report.shrink.not_shrunk} not shrunk (--shrink-max)` : ''}`,
    );
  }
  const listed = report.failures.slice(0, options.maxListed ?? 50);
  if (listed.length > 0) lines.push('', 'failing seeds:');
  for (const f of listed) {
    lines.push(`  seed ${f.seed} · ${f.invariants.join(', ')}${f.known ? ' (known)' : ''} · ${firstLine(f.message)}`);
    lines.push(`    schedule (${f.faults.length}): ${formatSchedule(f.faults)}`);
    lines.push(`    reproduce: ${f.reproduce}`);
    if (f.shrunk) {
      const note = f.shrunk.exhausted ? ', budget spent: smaller, perhaps not minimal' : '';
      lines.push(
        `    shrunk for ${f.shrunk.for} to ${f.shrunk.faults.length} of ${f.faults.length} (${f.shrunk.runs} re-runs${note}): ${formatSchedule(f.shrunk.faults, f.shrunk.kept)}`,
      );
      lines.push(`      still fails: ${f.shrunk.invariants.join(', ')} · ${firstLine(f.shrunk.message)}`);
      lines.push(`      reproduce: ${f.shrunk.reproduce}`);
    }
  }
  if (report.failures.length > listed.length) lines.push(`  … and ${report.failures.length - listed.length} more (all of them in --json)`);
  return lines.join('\n');
}

import type { RunSummary } from '../../checker/run-summary.js';

interface CellRow {
  index: number;
  users: number;
  deliver_p99_ms: number;
  violations: number;
  slo_passed: boolean;
  wall_s: number;
  reproduce?: string;
}

/**
 * The merged report's cells section: how many jobs, what they cost, and the spread of deliver
 * p99 across them (a wide spread says the cells are too small to sample the heavy tail of group
 * sizes alike), with the worst cells listed.
 */
export function formatCellsTable(summary: RunSummary): string {
  const cells = summary.cells as
    { count: number; users_per_cell_max: number; wall_s_sum: number; wall_s_max: number; per_cell: CellRow[] } | undefined;
  if (!cells) return '';
  const p99s = cells.per_cell.map((c) => c.deliver_p99_ms).sort((a, b) => a - b);
  const at = (q: number) => p99s[Math.min(p99s.length - 1, Math.floor(q * p99s.length))]!;
  const lines = [
    `cells       ${cells.count} jobs of up to ${cells.users_per_cell_max} users, every user in detail · ${cells.wall_s_sum} s of job wall time in all, longest ${cells.wall_s_max} s`,
    `            deliver p99 across cells: min ${p99s[0]} · median ${at(0.5)} · max ${p99s[p99s.length - 1]} ms`,
  ];
  const worst = [...cells.per_cell].sort((a, b) => b.violations - a.violations || b.deliver_p99_ms - a.deliver_p99_ms).slice(0, 3);
  for (const c of worst) {
    lines.push(
      `            cell ${c.index}/${cells.count}: ${c.users} users · deliver p99 ${c.deliver_p99_ms} ms · ${c.violations} violation(s) · SLOs ${c.slo_passed ? 'pass' : 'MISSED'} · ${c.wall_s} s`,
    );
    // A cell that failed is rerun on its own: same seed, same cell, the same run event for event.
    if ((c.violations > 0 || !c.slo_passed) && c.reproduce) lines.push(`              reproduce: ${c.reproduce}`);
  }
  return lines.join('\n');
}

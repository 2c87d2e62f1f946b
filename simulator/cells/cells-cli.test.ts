import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function simCells(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'simulator/cells/cells-cli.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('npm run sim:cells', () => {
  it('runs every cell as its own job and merges them; the same files merge again to the same figures', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-cells-'));
    const merged = join(dir, 'merged.json');
    const run = simCells(
      'scenarios/smoke.yaml',
      '--cells',
      '2',
      '--parallel',
      '2',
      '--duration-s',
      '6',
      '--out-dir',
      dir,
      '--json',
      merged,
      '--quiet',
    );
    expect([0, 2], run.stderr).toContain(run.status);
    expect(run.stdout).toContain('cells       2 jobs of up to 100 users');
    const summary = JSON.parse(readFileSync(merged, 'utf8'));
    expect(summary.users).toBe(200);
    expect(summary.cells.count).toBe(2);
    expect(summary.reproduce).toBe('npm run sim:cells -- scenarios/smoke.yaml --seed 1 --cells 2 --duration-s 6');

    const again = join(dir, 'again.json');
    const remerge = simCells('scenarios/smoke.yaml', '--merge', join(dir, 'cell-1.json'), join(dir, 'cell-0.json'), '--json', again);
    expect(remerge.status, remerge.stderr).toBe(run.status);
    const second = JSON.parse(readFileSync(again, 'utf8'));
    expect(second.latency_ms).toEqual(summary.latency_ms);
    expect(second.messages).toEqual(summary.messages);
    expect(second.sim.trace_hash).toBe(summary.sim.trace_hash);
  }, 180_000);

  it('exits 3 with the reason for bad arguments, a missing cell or a file that is not a cell', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-cells-bad-'));
    const noCells = simCells('scenarios/smoke.yaml');
    expect(noCells.status).toBe(3);
    expect(noCells.stderr).toContain('--cells N is required');
    const zero = simCells('scenarios/smoke.yaml', '--cells', '0');
    expect(zero.status).toBe(3);
    expect(zero.stderr).toContain('CELLS_BAD_ARGUMENTS');
    const tooMany = simCells('scenarios/smoke.yaml', '--cells', '201');
    expect(tooMany.stderr).toContain('CELLS_BAD_SLICE');
    const notCell = join(dir, 'not-a-cell.json');
    writeFileSync(notCell, JSON.stringify({ kind: 'sim', scenario: 'smoke' }));
    const bad = simCells('scenarios/smoke.yaml', '--merge', notCell);
    expect(bad.status).toBe(3);
    expect(bad.stderr).toContain('CELLS_BAD_SUMMARY');
    expect(bad.stderr).toContain('not-a-cell.json');
  }, 120_000);
});

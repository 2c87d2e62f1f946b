import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function sim(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'simulator/cli.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
}

describe('npm run sim', () => {
  it('exits 3 with the reason when the run cannot be carried out', () => {
    const missing = sim('scenarios/no-such-scenario.yaml');
    expect(missing.status).toBe(3);
    expect(missing.stderr).toContain('cannot read');
    const badSeed = sim('scenarios/smoke.yaml', '--seed', 'x');
    expect(badSeed.status).toBe(3);
    expect(badSeed.stderr).toContain('--seed needs a non-negative integer');
  }, 120_000);
});

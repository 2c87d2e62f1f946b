import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('npm run sim never loses a run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));

  it('writes the requested JSON and HTML with the reason when it cannot run (exit 3)', () => {
    const json = join(dir, 'missing.json');
    const html = join(dir, 'missing.html');
    const run = sim('scenarios/no-such-scenario.yaml', '--json', json, '--html', html);
    expect(run.status).toBe(3);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({
      kind: 'sim',
      scenario: 'no-such-scenario',
      exit_code: 3,
      could_not_run: { message: expect.stringContaining('cannot read') },
    });
    expect(readFileSync(html, 'utf8')).toContain('COULD NOT RUN');
  }, 60_000);

  it('on SIGINT ends the load at that simulated instant, settles, checks and writes both outputs marked interrupted (exit 130)', async () => {
    const json = join(dir, 'interrupted.json');
    const html = join(dir, 'interrupted.html');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'simulator/cli.ts', 'scenarios/smoke.yaml', '--duration-s', '3600', '--json', json, '--html', html],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // The first progress line comes a wall second into the load.
      if (/safety · sim/.test(stderr) && child.signalCode === null && !stderr.includes('SIGINT')) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(130);
    expect(stdout).toMatch(/verdict: INTERRUPTED by SIGINT in safety after [\d.]+ s · a partial run, judged on what ran: \w+/);
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    expect(summary.interrupted).toMatchObject({ signal: 'SIGINT', phase: 'safety' });
    expect(summary.sim.simulated_s).toBeLessThan(3600);
    expect(summary.sim.liveness.converged).toBe(true);
    expect(summary.messages.sent).toBeGreaterThan(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('data-exit-code="130"');
    expect(page).toContain('INTERRUPTED');
  }, 60_000);
});

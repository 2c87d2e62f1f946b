import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

/*
 * `npm run load` end to end against the embedded system: the gate passes on a healthy short run,
 * fails with exit 2 on an unreachable objective, and the checker catches a planted lost delivery
 * (exit 1 with a witness). Short runs (6 s of traffic, 40 users).
 */

const ROOT = new URL('..', import.meta.url).pathname;
const SCENARIO = 'load/fixtures/ci-small.yaml';

/** Runs the CLI; `onStderr` sees stderr as it grows and may signal the child (interrupt tests). */
function runLoadCli(
  args: string[],
  onStderr?: (stderr: string, child: ChildProcess) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'load/main.ts', ...args, '--quiet'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr, child);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'load-cli-'));
});

describe('npm run load against the embedded system', () => {
  it('passes its SLO gate and writes JSON, JUnit and HTML', async () => {
    const json = join(dir, 'pass.json');
    const junit = join(dir, 'pass.xml');
    const html = join(dir, 'pass.html');
    const run = await runLoadCli([SCENARIO, '--json', json, '--junit', junit, '--html', html]);
    expect(run.stdout, run.stderr).toContain('verdict: PASS');
    expect(run.code).toBe(0);
    const summary = JSON.parse(await readFile(json, 'utf8'));
    expect(summary).toMatchObject({
      kind: 'load',
      scenario: 'ci-small',
      users: 40,
      quiesced: true,
      slo: { passed: true },
      invariants: { violations: 0 },
    });
    expect(summary.messages.acked).toBeGreaterThan(50);
    expect(summary.latency_counts.deliver).toBeGreaterThan(0);
    expect(summary.groups.created).toBe(summary.groups.planned);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toContain('<testcase name="deliver.p99" classname="load.ci-small.slo"/>');
    expect(xml).toContain('<testcase name="durability" classname="load.ci-small.invariant"/>');
    expect(await readFile(html, 'utf8')).toContain('ci-small');
  }, 40_000);

  it("fails the gate with exit 2 on an unreachable objective; --seed replaces the scenario's seed", async () => {
    const run = await runLoadCli([SCENARIO, '--seed', '11', '--slo', 'deliver.p99=0.001ms', '--duration-s', '4']);
    expect(run.stdout, run.stderr).toMatch(/FAIL {2}deliver\.p99 .*target < 0\.001 ms/);
    expect(run.stdout).toContain(' · seed 11 · ');
    expect(run.code).toBe(2);
  }, 40_000);

  it('catches a planted lost delivery: exit 1 with a witness', async () => {
    const json = join(dir, 'planted.json');
    const run = await runLoadCli([SCENARIO, '--test-drop-delivery', '5', '--duration-s', '4', '--json', json]);
    expect(run.code, run.stderr).toBe(1);
    const summary = JSON.parse(await readFile(json, 'utf8'));
    expect(summary.planted_fault).toMatch(/never saw .* deliver .* via live/);
    expect(summary.invariants.violations).toBeGreaterThan(0);
    const durability = summary.invariants.witnesses.find((w: { invariant: string }) => w.invariant === 'durability');
    expect(durability.witness).toMatch(/was never delivered to/);
    expect(run.stdout).toContain('witness:');
  }, 40_000);
});

describe('npm run load interrupted', () => {
  it('by SIGINT: ends the traffic, settles, checks and writes JSON, JUnit and HTML marked interrupted (exit 130)', async () => {
    const json = join(dir, 'interrupted.json');
    const junit = join(dir, 'interrupted.xml');
    const html = join(dir, 'interrupted.html');
    let signalled = false;
    const run = await runLoadCli([SCENARIO, '--duration-s', '60', '--json', json, '--junit', junit, '--html', html], (stderr, child) => {
      // Two seconds into the traffic (past its 1 s warm-up), so latency has been measured.
      if (!signalled && /· traffic for 60 s/.test(stderr)) {
        signalled = true;
        setTimeout(() => child.kill('SIGINT'), 2_000);
      }
    });
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toContain('SIGINT: ending the traffic, settling and checking what ran');
    expect(run.stdout).toMatch(
      /verdict: INTERRUPTED by SIGINT in traffic after [\d.]+ s · a partial run, judged on what ran: PASS · exit 130/,
    );
    const summary = JSON.parse(await readFile(json, 'utf8'));
    expect(summary.interrupted).toMatchObject({ signal: 'SIGINT', phase: 'traffic' });
    expect(summary).toMatchObject({ kind: 'load', quiesced: true, invariants: { violations: 0 } });
    expect(summary.messages.sent).toBeGreaterThan(0);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(
      /<testcase name="interrupted" classname="load\.ci-small\.run">\s*<failure message="interrupted by SIGINT in traffic/,
    );
    const page = await readFile(html, 'utf8');
    expect(page).toContain('data-exit-code="130"');
    expect(page).toContain('INTERRUPTED');
  }, 60_000);
});

describe('npm run load refuses what it cannot run (exit 3)', () => {
  it('a scenario file that cannot be read, named after the file', async () => {
    const json = join(dir, 'missing.json');
    const run = await runLoadCli([join(dir, 'no-such-scenario.yaml'), '--json', json]);
    expect(run.code).toBe(3);
    expect(JSON.parse(await readFile(json, 'utf8'))).toMatchObject({ kind: 'load', scenario: 'no-such-scenario', exit_code: 3 });
  });

  it('a --seed that is not a non-negative integer', async () => {
    const run = await runLoadCli([SCENARIO, '--seed', 'x']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/--seed/);
  });

  it('an unknown objective, naming the known ones', async () => {
    const run = await runLoadCli([SCENARIO, '--slo', 'deliver.p98=10ms']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/unknown objective "deliver\.p98"; known: .*deliver\.p99/);
  });

  it('an unreachable target, still writing the requested JSON, JUnit (one failing case) and HTML with the reason', async () => {
    const json = join(dir, 'unreachable.json');
    const junit = join(dir, 'unreachable.xml');
    const html = join(dir, 'unreachable.html');
    const run = await runLoadCli([
      SCENARIO,
      '--target',
      'ws://127.0.0.1:9/ws',
      '--token-secret',
      'a-secret-of-enough-length',
      '--json',
      json,
      '--junit',
      junit,
      '--html',
      html,
    ]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/cannot connect to ws:\/\/127\.0\.0\.1:9\/ws/);
    expect(JSON.parse(await readFile(json, 'utf8'))).toMatchObject({
      kind: 'load',
      scenario: 'ci-small',
      exit_code: 3,
      could_not_run: { code: 'LOAD_TARGET_UNREACHABLE', message: expect.stringMatching(/cannot connect to ws:\/\/127\.0\.0\.1:9\/ws/) },
    });
    const xml = await readFile(junit, 'utf8');
    expect(xml).toContain('tests="1" failures="1"');
    expect(xml).toMatch(
      /<testcase name="could_not_run" classname="load\.ci-small\.run">\s*<failure message="LOAD_TARGET_UNREACHABLE: cannot connect/,
    );
    const page = await readFile(html, 'utf8');
    expect(page).toContain('COULD NOT RUN');
    expect(page).toContain('LOAD_TARGET_UNREACHABLE');
  }, 40_000);

  it('a scenario with faults, unless told to skip them', async () => {
    const text = (await readFile(join(ROOT, SCENARIO), 'utf8')) + 'faults:\n  - { kind: gateway_crash, at_s: 2, duration_s: 1 }\n';
    const path = join(dir, 'with-faults.yaml');
    await writeFile(path, text);
    const run = await runLoadCli([path]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/lists 1 fault\(s\) \(gateway_crash\).*--faults skip/);
  });

  it('a bad scenario', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(path, 'name: Bad Name\nduration_s: -1\n');
    const run = await runLoadCli([path]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/SCENARIO|not a valid scenario/);
  });
});

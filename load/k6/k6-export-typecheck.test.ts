import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readScenario } from '../../scenarios/format/index.js';
import { typeCheckK6Scripts } from './export/typecheck-k6-scripts.js';
import { writeK6Script } from './export/write-k6-script.js';

const SCENARIOS_DIR = new URL('../../scenarios/', import.meta.url);

/*
 * Every shipped scenario exports to a script that type-checks against @types/k6 as k6 would load
 * it (k6 itself is not run here: its binary is AGPL). One compiler program covers them all.
 */
describe('k6 export of the shipped scenarios', () => {
  let outDir: string;
  const scripts: string[] = [];

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'chatload-k6-'));
    const files = (await readdir(SCENARIOS_DIR)).filter((f) => f.endsWith('.yaml')).sort();
    for (const file of files) {
      const scenario = await readScenario(new URL(file, SCENARIOS_DIR).pathname);
      scripts.push((await writeK6Script(scenario, file, join(outDir, `${scenario.name}.ts`))).scriptPath);
    }
  });
  afterAll(() => rm(outDir, { recursive: true, force: true }));

  it('writes one script per scenario next to the protocol module', async () => {
    expect(scripts.length).toBeGreaterThanOrEqual(10);
    expect(await readdir(outDir)).toContain('chat-k6-session.ts');
  });

  it('type-checks against @types/k6 with no diagnostics', () => {
    expect(typeCheckK6Scripts(scripts)).toEqual([]);
  }, 120_000);

  it('the type check is not vacuous: a wrong k6 call is reported', async () => {
    const broken = join(outDir, 'broken.ts');
    await writeFile(broken, "import { sleep } from 'k6';\nsleep('one second');\n");
    const problems = typeCheckK6Scripts([broken]);
    expect(problems.join('\n')).toMatch(/broken\.ts:2:7 .*not assignable to parameter of type 'number'/);
  }, 120_000);
});

describe('npm run k6:export', () => {
  const run = promisify(execFile);
  const cli = (args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'load/k6/k6-export-main.ts', ...args], { cwd: new URL('../..', import.meta.url).pathname });

  it('writes the script and its module, and says how to run it', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'chatload-k6-cli-'));
    try {
      const { stdout } = await cli(['scenarios/smoke.yaml', '--out', join(outDir, 'smoke.ts')]);
      expect(stdout).toContain('k6 run');
      expect((await readdir(outDir)).sort()).toEqual(['chat-k6-session.ts', 'smoke.ts']);
      expect(await readFile(join(outDir, 'smoke.ts'), 'utf8')).toContain("executor: 'constant-arrival-rate'");
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('exits 3 naming the problem when --out is missing', async () => {
    const failure = await cli(['scenarios/smoke.yaml']).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 3 });
    expect((failure as { stderr: string }).stderr).toContain('give --out FILE.ts');
  }, 60_000);

  it('exits 3 on an invalid scenario', async () => {
    const failure = await cli([join(tmpdir(), `no-such-scenario-${process.pid}.yaml`), '--out', join(tmpdir(), 'x.ts')]).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 3 });
    expect((failure as { stderr: string }).stderr).toContain('cannot read');
  }, 60_000);
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function chaos(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'chaos/main.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
}

describe('npm run chaos, when it cannot run', () => {
  it('exits 3 with the error code and the reason, starting nothing', () => {
    const missing = chaos('chaos/no-such-drill.yaml');
    expect(missing.status).toBe(3);
    expect(missing.stderr).toContain('DRILL_UNREADABLE');
    const json = join(mkdtempSync(join(tmpdir(), 'chaos-cli-')), 'bad-target.json');
    const html = json.replace(/\.json$/, '.html');
    const badTarget = chaos('chaos/gateway-kill.yaml', '--target', 'k8s', '--json', json, '--html', html);
    expect(badTarget.status).toBe(3);
    expect(badTarget.stderr).toContain('--target is local or compose');
    // The requested outputs are still written, saying why (a CI step publishing them gets something).
    expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({
      kind: 'chaos',
      scenario: 'gateway-kill',
      exit_code: 3,
      could_not_run: { code: 'CHAOS_BAD_ARGUMENTS' },
    });
    expect(readFileSync(html, 'utf8')).toContain('COULD NOT RUN');
    const noFile = chaos();
    expect(noFile.status).toBe(3);
    expect(noFile.stderr).toContain('usage: npm run chaos');
    // Three tsx start-ups: seconds each on a loaded 2-core machine.
  }, 120_000);
});

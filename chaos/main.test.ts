import { spawnSync } from 'node:child_process';
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
    const badTarget = chaos('chaos/gateway-kill.yaml', '--target', 'k8s');
    expect(badTarget.status).toBe(3);
    expect(badTarget.stderr).toContain('--target is local or compose');
    const noFile = chaos();
    expect(noFile.status).toBe(3);
    expect(noFile.stderr).toContain('usage: npm run chaos');
    // Three tsx start-ups: seconds each on a loaded 2-core machine.
  }, 120_000);
});

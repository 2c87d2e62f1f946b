import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCapacityCli } from './capacity-cli.js';
import { CapacityErrorCodes } from './capacity-error-codes.js';
import { parseMeasuredCapacity } from './measured-capacity.js';

describe('npm run capacity', () => {
  let dir: string;
  let out: string[];
  let err: string[];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'capacity-'));
    out = [];
    err = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the comparison for the seed scenario and writes JSON and HTML', async () => {
    const measured = join(dir, 'measured.json');
    await writeFile(measured, JSON.stringify({ source: 'test', connectionsPerGateway: 20_000 }));
    const json = join(dir, 'plan.json');
    const html = join(dir, 'plan.html');
    const code = await runCapacityCli(['scenarios/seed-capacity.yaml', '--measured', measured, '--json', json, '--html', html]);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/WebSocket servers\s+~50,000\s+50,000 \(connections\)\s+75,000 \(connections\)\s+37,500 \(connections\)/);
    expect(text).toMatch(/concurrent connections\s+~500,000,000\s+500,000,000/);
    expect(text).toMatch(/text bytes\/day \(one copy\)\s+~10 TB\s+10 TB/);
    const plan = JSON.parse(await readFile(json, 'utf8'));
    expect(plan.plans.measured.gateway.count).toBe(37_500);
    const page = await readFile(html, 'utf8');
    expect(page).toContain('Capacity plan: seed-capacity');
    expect(page).toContain('with measured per-node capacity (test)');
  });

  it('takes assumption overrides', async () => {
    expect(await runCapacityCli(['scenarios/seed-capacity.yaml', '--assume', 'headroom=1', '--assume', 'peakToAverage=1'])).toBe(0);
    expect(out.join('\n')).toMatch(/WebSocket servers\s+~50,000\s+50,000 \(connections\)\s+50,000 \(connections\)/);
  });

  it('exits 3 with the reason on bad input', async () => {
    expect(await runCapacityCli([])).toBe(3);
    expect(await runCapacityCli(['scenarios/does-not-exist.yaml'])).toBe(3);
    expect(await runCapacityCli(['scenarios/seed-capacity.yaml', '--assume', 'connectionsPerGateway=0'])).toBe(3);
    expect(await runCapacityCli(['scenarios/seed-capacity.yaml', '--assume', 'warpFactor=9'])).toBe(3);
    const measured = join(dir, 'bad.json');
    await writeFile(measured, JSON.stringify({ framesPerGatewayPerS: 0 }));
    expect(await runCapacityCli(['scenarios/seed-capacity.yaml', '--measured', measured])).toBe(3);
    expect(err.join('\n')).toMatch(/SCENARIO_UNREADABLE/);
    expect(err.join('\n')).toMatch(/CAPACITY_BAD_ASSUMPTION: connectionsPerGateway must be a positive number/);
    expect(err.join('\n')).toMatch(/CAPACITY_BAD_ARGUMENTS/);
    expect(err.join('\n')).toMatch(/CAPACITY_BAD_MEASURED_FILE.*\n.*framesPerGatewayPerS/);
  });

  it('refuses measured files with unknown figures', () => {
    expect(() => parseMeasuredCapacity({ gatewaysPerSecond: 5 }, 'm.json')).toThrow(
      expect.objectContaining({ code: CapacityErrorCodes.BAD_MEASURED_FILE }),
    );
  });
});

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readScenario, type Scenario } from '../../scenarios/format/index.js';
import { inProcessExecutor } from './executor.js';
import { mergeSwarmReports } from './merge-swarm.js';
import { seedOutcome } from './run-seed.js';
import { parseKinds, type SwarmFault } from './schedule.js';
import { shrinkSchedule } from './shrink.js';
import { runSwarm, seedCommand, type SwarmOptions, type SwarmReport } from './swarm.js';

const run = promisify(execFile);
const SWARM_SMALL = 'scenarios/swarm-small.yaml';
const PLANTED = 'stale-head-after-restart';
const ORDER_INVARIANTS = ['order', 'no-duplicates', 'durability'];

let scenario: Scenario;
beforeAll(async () => {
  scenario = await readScenario(SWARM_SMALL);
});

/** Whether a gateway crash restarts inside a Cassandra outage of the schedule (what the planted bug needs). */
function restartsDuringOutage(faults: readonly SwarmFault[]): boolean {
  return faults.some(
    (crash) =>
      crash.kind === 'gateway_crash' &&
      faults.some(
        (outage) =>
          outage.kind === 'cassandra_outage' &&
          crash.at_s + crash.duration_s > outage.at_s &&
          crash.at_s + crash.duration_s < outage.at_s + outage.duration_s,
      ),
  );
}

describe('seed swarm', () => {
  // Crashes and outages only, so that a few seeds meet the combination; the full mix finds it too
  // (docs/benchmarks.md, "Seed swarm"), in a few seeds per hundred.
  const planted: Omit<SwarmOptions, 'scenario'> = {
    scenarioFile: SWARM_SMALL,
    seeds: { first: 1, count: 6 },
    schedule: { maxFaults: 4, kinds: parseKinds('gateway_crash,cassandra_outage') },
    plantBug: PLANTED,
    shrinkMax: 2,
    shrinkRuns: 40,
  };
  let report: SwarmReport;

  it('finds the planted bug (a gateway restarted during a Cassandra outage numbers from a stale head) and shrinks it to that crash and that outage', async () => {
    report = await runSwarm({ scenario, ...planted }, inProcessExecutor(scenario));
    expect(report.passed + report.failed).toBe(6);
    expect(report.failed).toBeGreaterThan(0);
    for (const failure of report.failures) {
      expect(
        failure.invariants.some((name) => ORDER_INVARIANTS.includes(name)),
        failure.invariants.join(),
      ).toBe(true);
      expect(restartsDuringOutage(failure.faults)).toBe(true);
      expect(failure.reproduce).toBe(
        `npm run sim:swarm -- ${SWARM_SMALL} --seed ${failure.seed} --kinds gateway_crash,cassandra_outage --plant-bug ${PLANTED}`,
      );
    }
    const shrunk = report.failures.filter((f) => f.shrunk);
    expect(shrunk).toHaveLength(Math.min(2, report.failed));
    for (const { seed, shrunk: s } of shrunk) {
      expect(s!.faults.map((f) => f.kind).sort()).toEqual(['cassandra_outage', 'gateway_crash']);
      expect(restartsDuringOutage(s!.faults)).toBe(true);
      expect(s!.exhausted).toBe(false);
      expect(s!.reproduce).toBe(
        `${seedCommand({ scenarioFile: SWARM_SMALL, schedule: planted.schedule, plantBug: PLANTED }, seed)} --faults ${s!.kept.join(',')}`,
      );
    }
    // It is the planted bug: the shrunk schedule holds on the real code, and each fault alone holds with the bug.
    const { seed, shrunk: minimal } = shrunk[0]!;
    expect((await seedOutcome(scenario, { seed, schedule: minimal!.faults })).failed).toBe(false);
    for (const alone of minimal!.faults)
      expect((await seedOutcome(scenario, { seed, schedule: [alone], plantBug: PLANTED })).failed).toBe(false);
  }, 120_000);

  it('a run split into slices finds the same failing seeds as the whole run, each seed once', async () => {
    const slices: SwarmReport[] = [];
    for (const index of [0, 1, 2])
      slices.push(await runSwarm({ scenario, ...planted, shrinkMax: 0, slice: { index, count: 3 } }, inProcessExecutor(scenario)));
    expect(slices.map((s) => s.seeds)).toEqual([
      { first: 1, count: 2 },
      { first: 3, count: 2 },
      { first: 5, count: 2 },
    ]);
    const merged = mergeSwarmReports(slices);
    expect(merged.passed).toBe(report.passed);
    expect(merged.failures.map((f) => [f.seed, f.invariants, f.faults])).toEqual(
      report.failures.map((f) => [f.seed, f.invariants, f.faults]),
    );
  }, 120_000);

  it('shrinks a known failing schedule to its minimal fault set', async () => {
    // Five faults; only the crash of gateway-1 restarting inside the outage makes the planted bug show.
    const known: SwarmFault[] = [
      { kind: 'surge', target: 'traffic', at_s: 0.5, duration_s: 3, multiplier: 2 },
      { kind: 'redis_restart', target: 'redis', at_s: 1, duration_s: 0.5 },
      { kind: 'cassandra_outage', target: 'cassandra', at_s: 2, duration_s: 4 },
      { kind: 'gateway_crash', target: 'gateway-1', at_s: 3, duration_s: 1 },
      { kind: 'network_latency', target: 'clients', at_s: 6.5, duration_s: 1, extra_latency_ms: 50 },
    ];
    const executor = inProcessExecutor(scenario);
    const first = await executor.run({ seed: 1, schedule: known, plantBug: PLANTED });
    expect(first.invariants).toContain('order');
    const result = await shrinkSchedule(
      known.length,
      async (kept) =>
        (await executor.run({ seed: 1, schedule: kept.map((i) => known[i]!), plantBug: PLANTED })).invariants.includes('order'),
      { maxRuns: 40, batch: 1 },
    );
    expect(result.kept).toEqual([2, 3]);
    expect(result.exhausted).toBe(false);
  }, 120_000);

  it('runs seeds in the same process as it would one alone (what a worker does)', async () => {
    const schedule: SwarmFault[] = [{ kind: 'gateway_crash', target: 'gateway-0', at_s: 2, duration_s: 1 }];
    const alone = await seedOutcome(scenario, { seed: 12, schedule });
    await seedOutcome(scenario, { seed: 13, schedule: [{ kind: 'redis_restart', target: 'redis', at_s: 1, duration_s: 2 }] });
    const after = await seedOutcome(scenario, { seed: 12, schedule });
    expect(after.traceHash).toBe(alone.traceHash);
  }, 60_000);
});

describe('npm run sim:swarm', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-swarm-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, ['--import', 'tsx', 'simulator/swarm/swarm-cli.ts', ...args], {
      env: { ...process.env, ...env },
      maxBuffer: 16 * 1024 * 1024,
    }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: `${error.stdout}${error.stderr}` }),
    );

  it('runs slices in worker processes (one from JOB_COMPLETION_INDEX), writes their JSON, and merges them; exit 1 names the failing seed and its command', async () => {
    const flags = [
      SWARM_SMALL,
      '--seeds',
      '4',
      '--first-seed',
      '3',
      '--kinds',
      'gateway_crash,cassandra_outage',
      '--plant-bug',
      PLANTED,
      '--parallel',
      '2',
      '--shrink-max',
      '0',
      '--quiet',
    ];
    const [a, b] = await Promise.all([
      cli([...flags, '--slice', '0/2', '--json', join(dir, 'slice-0.json')]),
      cli([...flags, '--slices', '2', '--json', join(dir, 'slice-1.json')], { JOB_COMPLETION_INDEX: '1' }),
    ]);
    const slices = [
      JSON.parse(await readFile(join(dir, 'slice-0.json'), 'utf8')) as SwarmReport,
      JSON.parse(await readFile(join(dir, 'slice-1.json'), 'utf8')) as SwarmReport,
    ];
    expect(slices.map((s) => s.seeds)).toEqual([
      { first: 3, count: 2 },
      { first: 5, count: 2 },
    ]);
    expect([a.code, b.code]).toEqual(slices.map((s) => s.exit_code));
    expect(slices[0]!.parallel).toBe(2);
    const merged = await cli(['merge', join(dir, 'slice-0.json'), join(dir, 'slice-1.json'), '--json', join(dir, 'merged.json')]);
    const report = JSON.parse(await readFile(join(dir, 'merged.json'), 'utf8')) as SwarmReport;
    expect(report.passed + report.failed).toBe(4);
    expect(report.failed).toBeGreaterThan(0);
    expect(merged.code).toBe(1);
    expect(merged.stdout).toContain(
      `reproduce: npm run sim:swarm -- ${SWARM_SMALL} --seed ${report.failures[0]!.seed} --kinds gateway_crash,cassandra_outage --plant-bug ${PLANTED}`,
    );
    // The reproduce command runs that seed alone, with the same verdict.
    const again = await cli([
      SWARM_SMALL,
      '--seed',
      String(report.failures[0]!.seed),
      '--kinds',
      'gateway_crash,cassandra_outage',
      '--plant-bug',
      PLANTED,
    ]);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('swarm verdict: FAILS');
    // A slice missing: refused (exit 3).
    const incomplete = await cli(['merge', join(dir, 'slice-0.json')]);
    expect(incomplete.code).toBe(3);
    expect(incomplete.stdout).toContain('SWARM_INCOMPLETE');
  }, 180_000);

  it('refuses bad flags with exit 3', async () => {
    for (const args of [
      [SWARM_SMALL],
      [SWARM_SMALL, '--seeds', '2', '--slice', '2/2'],
      [SWARM_SMALL, '--seeds', '2', '--plant-bug', 'nope'],
      [SWARM_SMALL, '--seed', '1', '--faults', '9'],
    ]) {
      expect((await cli(args)).code, args.join(' ')).toBe(3);
    }
  }, 60_000);
});

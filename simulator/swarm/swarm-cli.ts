import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { formatViolation } from '../../checker/format.js';
import { ExitCodes, formatSummary } from '../../checker/run-summary.js';
import { readScenario, ScenarioError, type Scenario } from '../../scenarios/format/index.js';
import { FaultNotSupportedError } from '../faults/fault-injector.js';
import { inProcessExecutor, workerPoolExecutor, type SeedExecutor } from './executor.js';
import { formatSchedule, formatSwarmReport } from './format-swarm.js';
import { mergeSwarmReports, readSwarmReport, SwarmMergeError } from './merge-swarm.js';
import { PLANTED_BUGS, plantedBugNamed } from './planted-bugs.js';
import { failedInvariantsOf, runSeed } from './run-seed.js';
import { DEFAULT_MAX_FAULTS, SWARM_KINDS, drawSchedule, parseFaultIndexes, parseKinds, scheduleAsYaml, type ScheduleOptions } from './schedule.js';
import { sliceFrom, SwarmArgumentError } from './slices.js';
import { parseKnown, runSwarm, seedCommand, type SwarmProgress, type SwarmReport } from './swarm.js';

/*
 * The seed swarm (simulator/README.md, "Seed swarm"):
 *   npm run sim:swarm -- scenarios/<file>.yaml --seeds N [--first-seed S] [--parallel P] [--json FILE]
 *                        [--slice i/n | --slices n] [--max-faults K] [--kinds a,b] [--plant-bug NAME]
 *                        [--known a,b] [--shrink-max M] [--shrink-runs R] [--seed-timeout-s T] [--quiet]
 *   npm run sim:swarm -- scenarios/<file>.yaml --seed S [--faults i,j|none] [same schedule flags] [--json F] [--html F]
 *   npm run sim:swarm -- merge FILE... [--json FILE]
 * Exit codes: 0 every seed held (or failed only --known invariants), 1 a seed failed (an invariant
 * violated, not caught up after healing, a rejection left unhandled), 3 could not run (bad flags, unreadable scenario, slices that do not make one run).
 */

const USAGE = [
  'usage: npm run sim:swarm -- scenarios/<file>.yaml --seeds N [--first-seed S] [--parallel P] [--json FILE]',
  '         [--slice i/n | --slices n] [--max-faults K] [--kinds a,b] [--plant-bug NAME] [--known a,b] [--shrink-max M] [--shrink-runs R] [--seed-timeout-s T] [--quiet]',
  '       npm run sim:swarm -- scenarios/<file>.yaml --seed S [--faults i,j|none] [--max-faults K] [--kinds a,b] [--plant-bug NAME] [--json FILE] [--html FILE]',
  '       npm run sim:swarm -- merge FILE... [--json FILE]',
  `kinds: ${SWARM_KINDS.join(', ')}; planted bugs: ${Object.keys(PLANTED_BUGS).join(', ')}`,
].join('\n');

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        seeds: { type: 'string' },
        'first-seed': { type: 'string' },
        parallel: { type: 'string' },
        slice: { type: 'string' },
        slices: { type: 'string' },
        'max-faults': { type: 'string' },
        kinds: { type: 'string' },
        'plant-bug': { type: 'string' },
        known: { type: 'string' },
        'shrink-max': { type: 'string' },
        'shrink-runs': { type: 'string' },
        'seed-timeout-s': { type: 'string' },
        seed: { type: 'string' },
        faults: { type: 'string' },
        json: { type: 'string' },
        html: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return ExitCodes.COULD_NOT_RUN;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return ExitCodes.OK;
  }
  try {
    if (positionals[0] === 'merge') return await merge(positionals.slice(1), values.json);
    if (positionals.length !== 1) throw new SwarmArgumentError(`give exactly one scenario file (or: merge FILE...)\n${USAGE}`);
    const file = positionals[0]!;
    const scenario = await readScenario(file);
    const schedule: ScheduleOptions = {
      maxFaults: values['max-faults'] !== undefined ? positiveInt(values['max-faults'], '--max-faults') : DEFAULT_MAX_FAULTS,
      kinds: values.kinds !== undefined ? parseKinds(values.kinds) : SWARM_KINDS,
    };
    const plantBug = values['plant-bug'];
    if (plantBug !== undefined) plantedBugNamed(plantBug);
    if (values.seed !== undefined) {
      if (values.seeds !== undefined || values.slice !== undefined || values.slices !== undefined) throw new SwarmArgumentError('--seed runs one seed; --seeds, --slice and --slices belong to a swarm');
      return await oneSeed(file, scenario, nonNegativeInt(values.seed, '--seed'), schedule, plantBug, values);
    }
    if (values.faults !== undefined || values.html !== undefined) throw new SwarmArgumentError('--faults and --html go with --seed S (one seed)');
    if (values.seeds === undefined) throw new SwarmArgumentError(`--seeds N is required (or --seed S for one seed)\n${USAGE}`);
    const seeds = { first: values['first-seed'] !== undefined ? nonNegativeInt(values['first-seed'], '--first-seed') : 1, count: positiveInt(values.seeds, '--seeds') };
    const slice = sliceFrom(values, process.env);
    const parallel = values.parallel !== undefined ? positiveInt(values.parallel, '--parallel') : Math.max(1, availableParallelism());
    const executor: SeedExecutor =
      parallel === 1
        ? inProcessExecutor(scenario)
        : workerPoolExecutor({
            size: parallel,
            scenario,
            seedTimeoutMs: (values['seed-timeout-s'] !== undefined ? positiveInt(values['seed-timeout-s'], '--seed-timeout-s') : 300) * 1000,
            seedsPerWorker: 2_000,
          });
    let report: SwarmReport;
    try {
      report = await runSwarm(
        {
          scenario,
          scenarioFile: file,
          seeds,
          slice,
          schedule,
          plantBug,
          known: values.known !== undefined ? parseKnown(values.known) : undefined,
          shrinkMax: values['shrink-max'] !== undefined ? nonNegativeInt(values['shrink-max'], '--shrink-max') : 10,
          shrinkRuns: values['shrink-runs'] !== undefined ? positiveInt(values['shrink-runs'], '--shrink-runs') : 64,
          ...(values.quiet ? {} : { onProgress: printProgress }),
        },
        executor,
      );
    } finally {
      await executor.close();
    }
    if (!values.quiet) process.stderr.write('\n');
    console.log(formatSwarmReport(report));
    if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
    return report.exit_code;
  } catch (error) {
    if (error instanceof ScenarioError || error instanceof SwarmMergeError || error instanceof SwarmArgumentError) {
      console.error(`${error.code}: ${error.message}`);
      return ExitCodes.COULD_NOT_RUN;
    }
    if (error instanceof RangeError) {
      console.error(`SWARM_BAD_ARGUMENTS: ${error.message}`);
      return ExitCodes.COULD_NOT_RUN;
    }
    if (error instanceof FaultNotSupportedError) {
      console.error(`${error.code}: ${error.message}`);
      return ExitCodes.COULD_NOT_RUN;
    }
    throw error;
  }
}

function printProgress(p: SwarmProgress): void {
  const rate = p.wallS > 0 && p.phase === 'seeds' ? ` · ${(p.done / p.wallS).toFixed(1)} seeds/s` : '';
  const eta = p.phase === 'seeds' && p.done > 0 ? ` · ETA ${Math.round(((p.total - p.done) * p.wallS) / p.done)} s` : '';
  process.stderr.write(`\r${p.phase === 'seeds' ? 'seeds' : 'shrinking'} ${p.done}/${p.total} · failed ${p.failed}${rate}${eta} · ${Math.round(p.wallS)} s   `);
}

/** One seed with its drawn schedule (or the entries --faults keeps): what a failing seed's reproduce command runs. */
async function oneSeed(
  file: string,
  scenario: Scenario,
  seed: number,
  schedule: ScheduleOptions,
  plantBug: string | undefined,
  values: { faults?: string | undefined; json?: string | undefined; html?: string | undefined },
): Promise<number> {
  const drawn = drawSchedule(scenario, seed, schedule);
  const kept = values.faults !== undefined ? parseFaultIndexes(values.faults, drawn.length) : drawn.map((_, i) => i);
  const faults = kept.map((i) => drawn[i]!);
  console.log(`seed ${seed}: drawn schedule (${drawn.length}): ${formatSchedule(drawn)}`);
  if (values.faults !== undefined) console.log(`running ${faults.length} of them: ${formatSchedule(faults, kept)}`);
  const command = seedCommand({ scenarioFile: file, schedule, plantBug }, seed, values.faults !== undefined ? kept : undefined);
  const result = await runSeed(scenario, { seed, schedule: faults, plantBug }, () => command);
  console.log(formatSummary(result.summary));
  const failed = failedInvariantsOf(result);
  if (result.violations.length > 0) {
    console.log('\nfirst violation:');
    console.log(formatViolation(result.violations[0]!));
  }
  console.log(`\nswarm verdict: ${failed.length > 0 ? `FAILS (${failed.join(', ')})` : 'holds'} · trace hash ${result.traceHash}`);
  if (faults.length > 0) console.log(`\nas scenario lines (to pin this schedule in a scenario file of its own):\n${scheduleAsYaml(faults)}`);
  console.log(`\nreproduce: ${command}`);
  if (values.json) await writeFile(values.json, `${JSON.stringify({ ...result.summary, swarm: { seed, drawn, kept, failed }, series: result.series }, null, 2)}\n`);
  if (values.html) {
    const { writeSimHtml } = await import('../report/html-report.js');
    await writeSimHtml(values.html, result, result.capacity);
  }
  return failed.length > 0 ? ExitCodes.INVARIANT_VIOLATED : ExitCodes.OK;
}

async function merge(files: string[], json: string | undefined): Promise<number> {
  if (files.length === 0) throw new SwarmArgumentError('merge needs the slices\' JSON files');
  const report = mergeSwarmReports(await Promise.all(files.map((f) => readSwarmReport(f))));
  console.log(formatSwarmReport(report));
  if (json) await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  return report.exit_code;
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new SwarmArgumentError(`${flag} needs a positive integer, got "${text}"`);
  return n;
}

function nonNegativeInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new SwarmArgumentError(`${flag} needs a non-negative integer, got "${text}"`);
  return n;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`sim:swarm failed: ${(error as Error)?.stack ?? String(error)}`);
    process.exit(ExitCodes.COULD_NOT_RUN);
  },
);

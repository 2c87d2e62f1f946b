import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { formatViolation } from '../../checker/format.js';
import { ExitCodes, formatSummary } from '../../checker/run-summary.js';
import { defineCommand, type OptionValues } from '../../cli/command-spec.js';
import { runCommand } from '../../cli/run-command.js';
import { readScenario, ScenarioError, type Scenario } from '../../scenarios/format/index.js';
import { FaultNotSupportedError } from '../faults/fault-injector.js';
import { inProcessExecutor, workerPoolExecutor, type SeedExecutor } from './executor.js';
import { formatSchedule, formatSwarmReport } from './format-swarm.js';
import { mergeSwarmReports, readSwarmReport, SwarmMergeError } from './merge-swarm.js';
import { PLANTED_BUGS, plantedBugNamed } from './planted-bugs.js';
import { failedInvariantsOf, runSeed } from './run-seed.js';
import {
  DEFAULT_MAX_FAULTS,
  SWARM_KINDS,
  drawSchedule,
  parseFaultIndexes,
  parseKinds,
  scheduleAsYaml,
  type ScheduleOptions,
} from './schedule.js';
import { sliceFrom, SwarmArgumentError } from './slices.js';
import { parseKnown, runSwarm, seedCommand, type SwarmProgress, type SwarmReport } from './swarm.js';

/*
 * The seed swarm (simulator/README.md, "Seed swarm"): many seeds, each with a fault schedule drawn
 * from the seed; one seed with its schedule (what a failing seed's reproduce command runs); or the
 * merge of an Indexed Job's slices. The command line: `npm run sim:swarm -- --help`.
 */

const command = defineCommand({
  name: 'sim:swarm',
  purpose:
    'the seed swarm: simulator seeds of a scenario, each with a fault schedule drawn from the seed; failing seeds shrunk and printed with the command that reruns them',
  positionals: [
    {
      name: 'scenario.yaml',
      description: "the scenario (e.g. scenarios/swarm-small.yaml); or `merge` then the slices' JSON files",
      variadic: true,
    },
  ],
  forms: [
    '<scenario.yaml> --seed S [--faults i,j|none] [--max-faults K] [--kinds a,b] [--plant-bug NAME] [--json FILE] [--html FILE]',
    'merge FILE... [--json FILE]',
  ],
  options: {
    seeds: { type: 'number', integer: true, min: 1, description: 'how many seeds to run (required for a swarm)' },
    'first-seed': { type: 'number', integer: true, min: 0, default: 1, description: 'the first seed' },
    parallel: { type: 'number', integer: true, min: 1, description: 'worker processes (default: the available cores)' },
    slice: { type: 'string', placeholder: 'i/n', description: 'run slice i of n of the seeds (an Indexed Job pod)' },
    slices: { type: 'string', placeholder: 'n', description: 'n slices, this one from JOB_COMPLETION_INDEX' },
    'max-faults': { type: 'number', integer: true, min: 1, default: DEFAULT_MAX_FAULTS, description: 'most faults a schedule draws' },
    kinds: { type: 'string', placeholder: 'a,b', description: `fault kinds to draw from (default all: ${SWARM_KINDS.join(', ')})` },
    'plant-bug': {
      type: 'string',
      placeholder: 'NAME',
      description: `run against a deliberately broken variant: ${Object.keys(PLANTED_BUGS).join(', ')}`,
    },
    known: { type: 'string', placeholder: 'a,b', description: 'invariants already known to fail: reported, not failing the run' },
    'shrink-max': { type: 'number', integer: true, min: 0, default: 10, description: 'failing seeds to shrink' },
    'shrink-runs': { type: 'number', integer: true, min: 1, default: 64, description: 'runs one shrink may take' },
    'seed-timeout-s': { type: 'number', integer: true, min: 1, default: 300, description: 'a worker seed running longer fails' },
    seed: { type: 'number', integer: true, min: 0, description: 'run this one seed with its drawn schedule' },
    faults: { type: 'string', placeholder: 'i,j|none', description: 'with --seed: keep only these entries of the drawn schedule' },
    json: { type: 'string', placeholder: 'FILE', description: "write the report (or the one seed's summary) as JSON" },
    html: { type: 'string', placeholder: 'FILE', description: 'with --seed: write an HTML report' },
    quiet: { type: 'boolean', description: 'no progress line' },
  },
  exitCodes: [
    { code: ExitCodes.OK, meaning: 'every seed held (or failed only --known invariants)' },
    {
      code: ExitCodes.INVARIANT_VIOLATED,
      meaning: 'a seed failed: an invariant violated, not caught up after healing, a rejection left unhandled',
    },
    { code: ExitCodes.COULD_NOT_RUN, meaning: 'could not run: bad flags, unreadable scenario, slices that do not make one run' },
  ],
  badArgumentsCode: 'SWARM_BAD_ARGUMENTS',
});

await runCommand(
  command,
  async ({ values, positionals }) => {
    try {
      return await swarm(values, positionals);
    } catch (error) {
      // parseKinds and friends say what is wrong with a list with a RangeError.
      if (error instanceof RangeError) throw new SwarmArgumentError(error.message);
      throw error;
    }
  },
  { knownErrors: [ScenarioError, SwarmMergeError, SwarmArgumentError, FaultNotSupportedError] },
);

async function swarm(values: OptionValues<typeof command.options>, positionals: string[]): Promise<number> {
  if (positionals[0] === 'merge') return await merge(positionals.slice(1), values.json);
  if (positionals.length !== 1) throw new SwarmArgumentError('give exactly one scenario file (or: merge FILE...)');
  const file = positionals[0]!;
  const scenario = await readScenario(file);
  const schedule: ScheduleOptions = {
    maxFaults: values['max-faults'],
    kinds: values.kinds !== undefined ? parseKinds(values.kinds) : SWARM_KINDS,
  };
  const plantBug = values['plant-bug'];
  if (plantBug !== undefined) plantedBugNamed(plantBug);
  if (values.seed !== undefined) {
    if (values.seeds !== undefined || values.slice !== undefined || values.slices !== undefined)
      throw new SwarmArgumentError('--seed runs one seed; --seeds, --slice and --slices belong to a swarm');
    return await oneSeed(file, scenario, values.seed, schedule, plantBug, values);
  }
  if (values.faults !== undefined || values.html !== undefined)
    throw new SwarmArgumentError('--faults and --html go with --seed S (one seed)');
  if (values.seeds === undefined) throw new SwarmArgumentError('--seeds N is required (or --seed S for one seed)');
  const seeds = { first: values['first-seed'], count: values.seeds };
  const slice = sliceFrom(values, process.env);
  const parallel = values.parallel ?? Math.max(1, availableParallelism());
  const executor: SeedExecutor =
    parallel === 1
      ? inProcessExecutor(scenario)
      : workerPoolExecutor({
          size: parallel,
          scenario,
          seedTimeoutMs: values['seed-timeout-s'] * 1000,
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
        shrinkMax: values['shrink-max'],
        shrinkRuns: values['shrink-runs'],
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
}

function printProgress(p: SwarmProgress): void {
  const rate = p.wallS > 0 && p.phase === 'seeds' ? ` · ${(p.done / p.wallS).toFixed(1)} seeds/s` : '';
  const eta = p.phase === 'seeds' && p.done > 0 ? ` · ETA ${Math.round(((p.total - p.done) * p.wallS) / p.done)} s` : '';
  process.stderr.write(
    `\r${p.phase === 'seeds' ? 'seeds' : 'shrinking'} ${p.done}/${p.total} · failed ${p.failed}${rate}${eta} · ${Math.round(p.wallS)} s   `,
  );
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
  if (faults.length > 0)
    console.log(`\nas scenario lines (to pin this schedule in a scenario file of its own):\n${scheduleAsYaml(faults)}`);
  console.log(`\nreproduce: ${command}`);
  if (values.json)
    await writeFile(
      values.json,
      `${JSON.stringify({ ...result.summary, swarm: { seed, drawn, kept, failed }, series: result.series }, null, 2)}\n`,
    );
  if (values.html) {
    const { writeSimHtml } = await import('../report/html-report.js');
    await writeSimHtml(values.html, result, result.capacity);
  }
  return failed.length > 0 ? ExitCodes.INVARIANT_VIOLATED : ExitCodes.OK;
}

async function merge(files: string[], json: string | undefined): Promise<number> {
  if (files.length === 0) throw new SwarmArgumentError("merge needs the slices' JSON files");
  const report = mergeSwarmReports(await Promise.all(files.map((f) => readSwarmReport(f))));
  console.log(formatSwarmReport(report));
  if (json) await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  return report.exit_code;
}

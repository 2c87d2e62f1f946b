import { writeFile } from 'node:fs/promises';
import { ExitCodes, exitCodeOf, formatSummary } from '../checker/run-summary.js';
import { outputsOnFailure } from '../cli/could-not-run.js';
import { defineCommand, judgedRunExitCodes, type ParsedCommandLine } from '../cli/command-spec.js';
import { runCommand } from '../cli/run-command.js';
import { watchInterrupts } from '../cli/interrupts.js';
import { formatViolation } from '../checker/format.js';
import { readScenario, ScenarioError, type Scenario } from '../scenarios/format/index.js';
import { FaultNotSupportedError } from './faults/fault-injector.js';
import { formatSimDetails } from './report/format-details.js';
import { runSimulation, type SimProgress, type SimResult } from './run-simulation.js';
import { formatCellSlice, parseCellSlice, usersOfCell, type CellSlice } from './cells/cell-slice.js';
import { shortenScenario, shorteningNotes } from './shorten-scenario.js';
import { SIM_PROGRESS_SEPARATOR, simProgressSegments } from './sim-progress.js';
import { progressLinePrinter } from '../cli/progress-line.js';

/*
 * npm run sim: the real core on simulated adapters in virtual time. On SIGINT/SIGTERM the load
 * ends at that simulated instant, the run heals, settles, is checked and reported as interrupted
 * (exit 130/143); a second signal exits at once. The command line: `npm run sim -- --help`.
 */

const command = defineCommand({
  name: 'sim',
  purpose: 'runs a scenario through the real core on simulated adapters in virtual time, checks it and prints the summary',
  positionals: [{ name: 'scenario.yaml', description: 'the scenario file (scenarios/README.md)' }],
  options: {
    seed: { type: 'number', integer: true, min: 0, description: "the seed (default the scenario's)" },
    json: { type: 'string', placeholder: 'FILE', description: 'write the summary as JSON (docs/summaries.md)' },
    html: { type: 'string', placeholder: 'FILE', description: 'write a self-contained HTML report' },
    'check-determinism': { type: 'boolean', description: 'run the seed twice; different trace hashes are a violation' },
    'duration-s': {
      type: 'number',
      above: 0,
      placeholder: 'S',
      description: 'shorten the scenario (faults after the end are dropped, with a warning)',
    },
    users: { type: 'number', integer: true, min: 1, description: 'override the population' },
    'cell-users': { type: 'number', integer: true, min: 1, description: 'users simulated in detail (the rest is background load)' },
    cell: { type: 'string', placeholder: 'i/n', description: 'run cell i of n of a split run (npm run sim:cells merges them)' },
    capacity: { type: 'boolean', description: 'print the capacity plan after the summary' },
    quiet: { type: 'boolean', description: 'no progress line' },
  },
  exitCodes: judgedRunExitCodes({
    invariant: 'an invariant was violated (the summary names it, with the command that reproduces it)',
    couldNotRun: 'could not run; the requested --json/--html are still written, saying why',
    interrupted: 'the load ended at that simulated instant; settled, checked, outputs marked interrupted',
  }),
  badArgumentsCode: 'SIM_BAD_ARGUMENTS',
});

// A run that cannot be carried out still writes the --json/--html it was asked for, saying why.
const failure = outputsOnFailure('sim', (name) => `Simulation: ${name}`);

await runCommand(command, main, { knownErrors: [ScenarioError, FaultNotSupportedError], onFailure: failure.onFailure });

async function main({ values, positionals: [file] }: ParsedCommandLine<typeof command.options>): Promise<number> {
  const { scenario, notes: overrideNotes } = applyOverrides(await readScenario(file!), values);
  failure.named(scenario.name);
  const seed = values.seed ?? scenario.seed;
  let cell: CellSlice | undefined;
  if (values.cell !== undefined) {
    cell = parseCellSlice(values.cell);
    usersOfCell(scenario.population.users, cell);
  }

  const reproduceCommand = (s: number) => {
    const parts = ['npm run sim --', file!, '--seed', String(s)];
    if (values['duration-s'] !== undefined) parts.push('--duration-s', String(values['duration-s']));
    if (values.users !== undefined) parts.push('--users', String(values.users));
    if (values['cell-users'] !== undefined) parts.push('--cell-users', String(values['cell-users']));
    if (cell) parts.push('--cell', formatCellSlice(cell));
    return parts.join(' ');
  };
  // Loud, before the run: a shortened run that passes without its faults must not look like one that had them.
  for (const note of overrideNotes) process.stderr.write(`warning: ${note}\n`);
  const progress = values.quiet
    ? undefined
    : progressLinePrinter(process.stderr, simProgressSegments, { separator: SIM_PROGRESS_SEPARATOR });
  let result: SimResult;
  const interrupts = watchInterrupts({
    doing: 'ending the load at this simulated instant, healing, letting the devices catch up and checking what ran',
  });
  const onProgress = (p: SimProgress) => {
    interrupts.setPhase(p.phase);
    progress?.update(p);
  };
  const runOptions = {
    scenario,
    seed,
    reproduceCommand,
    notes: overrideNotes,
    signal: interrupts.signal,
    onProgress,
    ...(cell ? { cell } : {}),
  };
  try {
    result = await runSimulation(runOptions);
    const interruption = interrupts.interruption();
    if (interruption) {
      result.summary.interrupted = interruption;
      result.exitCode = exitCodeOf(result.summary);
    } else if (values['check-determinism']) {
      progress?.end();
      process.stderr.write('--check-determinism: running the same seed again\n');
      const again = await runSimulation(runOptions);
      const same = again.traceHash === result.traceHash;
      result.summary.determinism = { checked: true, first: result.traceHash, second: again.traceHash, same };
      if (!same) {
        result.summary.invariants.violations += 1;
        result.summary.invariants.witnesses.push({
          invariant: 'determinism' as never,
          message: `seed ${seed} gave trace hash ${result.traceHash}, then ${again.traceHash}`,
          witness: `two runs of ${reproduceCommand(seed)} --check-determinism diverged`,
        });
        result.exitCode = ExitCodes.INVARIANT_VIOLATED;
      }
    }
  } finally {
    progress?.end();
  }

  console.log(formatSummary(result.summary));
  console.log(formatSimDetails(result));
  if (result.capacityText && (values.capacity || scenario.name === 'seed-capacity' || scenario.sim.cell_users !== undefined || cell))
    console.log(`\n${result.capacityText}`);
  if (result.violations.length > 0) {
    console.log('\nfirst violation:');
    console.log(formatViolation(result.violations[0]!));
    console.log(`\nreproduce: ${result.reproduce}`);
  }
  if (values.json) await writeFile(values.json, `${JSON.stringify({ ...result.summary, series: result.series }, null, 2)}\n`);
  if (values.html) {
    const { writeSimHtml } = await import('./report/html-report.js');
    await writeSimHtml(values.html, result, result.capacity);
  }
  return result.exitCode;
}

/**
 * --duration-s and --users shrink a scenario for a quick run (CI); faults after the end are
 * dropped, and the notes say which. --cell-users sets the cell (the whole population, or more,
 * runs every user in detail). --cell i/n runs cell i of n as one job of a split run (npm run
 * sim:cells merges them).
 */
function applyOverrides(
  scenario: Scenario,
  values: { 'duration-s': number | undefined; users: number | undefined; 'cell-users': number | undefined },
): { scenario: Scenario; notes: string[] } {
  let out = scenario;
  const notes: string[] = [];
  const durationS = values['duration-s'];
  if (durationS !== undefined) {
    notes.push(...shorteningNotes(out, durationS));
    out = shortenScenario(out, durationS);
  }
  if (values.users !== undefined) out = { ...out, population: { ...out.population, users: values.users } };
  if (values['cell-users'] !== undefined) out = { ...out, sim: { ...out.sim, cell_users: values['cell-users'] } };
  return { scenario: out, notes };
}

import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ExitCodes, exitCodeOf, formatSummary } from '../checker/run-summary.js';
import { runNameOfFile, writeCouldNotRunOutputs, type CouldNotRunPaths } from '../cli/could-not-run.js';
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
import { ToolError } from '../cli/tool-error.js';

/*
 * npm run sim -- scenarios/<file>.yaml [--seed N] [--json FILE] [--html FILE] [--check-determinism]
 *               [--duration-s S] [--users N] [--cell-users N] [--cell i/n] [--quiet]
 * Exit codes (docs/summaries.md): 0 all hold, 1 invariant violated, 2 SLO missed, 3 could not run (the
 * requested --json/--html still written, saying why), 130/143 interrupted by SIGINT/SIGTERM: the
 * load ends at that simulated instant, the run heals, settles, is checked and reported as
 * interrupted; a second signal exits at once.
 */

const USAGE = 'usage: npm run sim -- scenarios/<file>.yaml [--seed N] [--json FILE] [--html FILE] [--check-determinism] [--duration-s S] [--users N] [--cell-users N] [--cell i/n] [--capacity] [--quiet]';

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        seed: { type: 'string' },
        json: { type: 'string' },
        html: { type: 'string' },
        'check-determinism': { type: 'boolean', default: false },
        'duration-s': { type: 'string' },
        users: { type: 'string' },
        'cell-users': { type: 'string' },
        cell: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        capacity: { type: 'boolean', default: false },
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
  couldNotRunOutputs = { json: values.json, html: values.html };
  couldNotRunName = runNameOfFile(positionals[0]);
  if (positionals.length !== 1) return couldNotRun('SIM_BAD_ARGUMENTS', `give exactly one scenario file\n${USAGE}`);
  const file = positionals[0]!;
  let scenario: Scenario;
  let overrideNotes: string[];
  try {
    ({ scenario, notes: overrideNotes } = applyOverrides(await readScenario(file), values));
  } catch (error) {
    if (error instanceof ScenarioError) return couldNotRun(error.code, error.message);
    if (error instanceof OverrideError) return couldNotRun('SIM_BAD_ARGUMENTS', error.message);
    throw error;
  }
  couldNotRunName = scenario.name;
  const seed = values.seed !== undefined ? parseNonNegativeInt(values.seed, '--seed') : scenario.seed;
  if (typeof seed === 'string') return couldNotRun('SIM_BAD_ARGUMENTS', seed);
  let cell: CellSlice | undefined;
  try {
    if (values.cell !== undefined) {
      cell = parseCellSlice(values.cell);
      usersOfCell(scenario.population.users, cell);
    }
  } catch (error) {
    if (error instanceof ToolError) return couldNotRun(error.code, error.message);
    throw error;
  }

  const reproduceCommand = (s: number) => {
    const parts = ['npm run sim --', file, '--seed', String(s)];
    if (values['duration-s'] !== undefined) parts.push('--duration-s', values['duration-s']);
    if (values.users !== undefined) parts.push('--users', values.users);
    if (values['cell-users'] !== undefined) parts.push('--cell-users', values['cell-users']);
    if (cell) parts.push('--cell', formatCellSlice(cell));
    return parts.join(' ');
  };
  // Loud, before the run: a shortened run that passes without its faults must not look like one that had them.
  for (const note of overrideNotes) process.stderr.write(`warning: ${note}\n`);
  const progress = values.quiet ? undefined : progressLinePrinter(process.stderr, simProgressSegments, { separator: SIM_PROGRESS_SEPARATOR });
  let result: SimResult;
  const interrupts = watchInterrupts({ doing: 'ending the load at this simulated instant, healing, letting the devices catch up and checking what ran' });
  const onProgress = (p: SimProgress) => {
    interrupts.setPhase(p.phase);
    progress?.update(p);
  };
  const runOptions = { scenario, seed, reproduceCommand, notes: overrideNotes, signal: interrupts.signal, onProgress, ...(cell ? { cell } : {}) };
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
  } catch (error) {
    progress?.end();
    if (error instanceof FaultNotSupportedError) return couldNotRun(error.code, error.message);
    throw error;
  }
  progress?.end();

  console.log(formatSummary(result.summary));
  console.log(formatSimDetails(result));
  if (result.capacityText && (values.capacity || scenario.name === 'seed-capacity' || scenario.sim.cell_users !== undefined || cell)) console.log(`\n${result.capacityText}`);
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

class OverrideError extends Error {}

/** The number, or what is wrong with the text. */
function parseNonNegativeInt(text: string, flag: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 0 ? n : `${flag} needs a non-negative integer, got "${text}"`;
}

/** Where a run that cannot be carried out still writes what was asked for, once the options are read. */
let couldNotRunOutputs: CouldNotRunPaths = {};
let couldNotRunName = 'unknown';

/** Prints why the run cannot be carried out, writes the requested --json/--html saying so, and gives exit 3. */
async function couldNotRun(code: string, message: string): Promise<number> {
  console.error(code.startsWith('SIM_') ? message : `${code}: ${message}`);
  await writeCouldNotRunOutputs(couldNotRunOutputs, { kind: 'sim', scenario: couldNotRunName, code, message }, `Simulation: ${couldNotRunName}`).catch((error: unknown) => {
    console.error(`could not write the outputs either: ${(error as Error).message}`);
  });
  return ExitCodes.COULD_NOT_RUN;
}

/**
 * --duration-s and --users shrink a scenario for a quick run (CI); faults after the end are
 * dropped, and the notes say which. --cell-users sets the cell (the whole population, or more,
 * runs every user in detail). --cell i/n runs cell i of n as one job of a split run (npm run
 * sim:cells merges them).
 */
function applyOverrides(
  scenario: Scenario,
  values: { 'duration-s'?: string | undefined; users?: string | undefined; 'cell-users'?: string | undefined },
): { scenario: Scenario; notes: string[] } {
  let out = scenario;
  const notes: string[] = [];
  if (values['duration-s'] !== undefined) {
    const d = Number(values['duration-s']);
    if (!(d > 0)) throw new OverrideError(`--duration-s needs a positive number, got "${values['duration-s']}"`);
    notes.push(...shorteningNotes(out, d));
    out = shortenScenario(out, d);
  }
  if (values.users !== undefined) {
    const u = Number(values.users);
    if (!Number.isSafeInteger(u) || u < 1) throw new OverrideError(`--users needs a positive integer, got "${values.users}"`);
    out = { ...out, population: { ...out.population, users: u } };
  }
  if (values['cell-users'] !== undefined) {
    const c = Number(values['cell-users']);
    if (!Number.isSafeInteger(c) || c < 1) throw new OverrideError(`--cell-users needs a positive integer, got "${values['cell-users']}"`);
    out = { ...out, sim: { ...out.sim, cell_users: c } };
  }
  return { scenario: out, notes };
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    process.exit(await couldNotRun('SIM_FAILED', `simulator failed: ${(error as Error)?.stack ?? String(error)}`));
  },
);

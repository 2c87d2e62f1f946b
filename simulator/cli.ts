import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ExitCodes, formatSummary } from '../checker/run-summary.js';
import { formatViolation } from '../checker/format.js';
import { readScenario, ScenarioError, type Scenario } from '../scenarios/format/index.js';
import { FaultNotSupportedError } from './faults/fault-injector.js';
import { formatSimDetails } from './report/format-details.js';
import { runSimulation, type SimProgress, type SimResult } from './run-simulation.js';
import { formatCellSlice, parseCellSlice, usersOfCell, type CellSlice } from './cells/cell-slice.js';
import { CellsError } from './cells/cells-errors.js';
import { shortenScenario, shorteningNotes } from './shorten-scenario.js';
import { SIM_PROGRESS_SEPARATOR, simProgressSegments } from './sim-progress.js';
import { progressLinePrinter } from '../cli/progress-line.js';

/*
 * npm run sim -- scenarios/<file>.yaml [--seed N] [--json FILE] [--html FILE] [--check-determinism]
 *               [--duration-s S] [--users N] [--cell-users N] [--cell i/n] [--quiet]
 * Exit codes (DESIGN §4): 0 all hold, 1 invariant violated, 2 SLO missed, 3 could not run.
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
  if (positionals.length !== 1) {
    console.error(`give exactly one scenario file\n${USAGE}`);
    return ExitCodes.COULD_NOT_RUN;
  }
  const file = positionals[0]!;
  let scenario: Scenario;
  let overrideNotes: string[];
  try {
    ({ scenario, notes: overrideNotes } = applyOverrides(await readScenario(file), values));
  } catch (error) {
    if (error instanceof ScenarioError || error instanceof OverrideError) {
      console.error(`${error.message}`);
      return ExitCodes.COULD_NOT_RUN;
    }
    throw error;
  }
  const seed = values.seed !== undefined ? parseNonNegativeInt(values.seed, '--seed') : scenario.seed;
  if (seed === undefined) return ExitCodes.COULD_NOT_RUN;
  let cell: CellSlice | undefined;
  try {
    if (values.cell !== undefined) {
      cell = parseCellSlice(values.cell);
      usersOfCell(scenario.population.users, cell);
    }
  } catch (error) {
    if (error instanceof CellsError) {
      console.error(`${error.code}: ${error.message}`);
      return ExitCodes.COULD_NOT_RUN;
    }
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
  const runOptions = { scenario, seed, reproduceCommand, notes: overrideNotes, ...(cell ? { cell } : {}), ...(progress ? { onProgress: (p: SimProgress) => progress.update(p) } : {}) };
  try {
    result = await runSimulation(runOptions);
    if (values['check-determinism']) {
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
    if (error instanceof FaultNotSupportedError) {
      console.error(`${error.code}: ${error.message}`);
      return ExitCodes.COULD_NOT_RUN;
    }
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

function parseNonNegativeInt(text: string, flag: string): number | undefined {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`${flag} needs a non-negative integer, got "${text}"`);
    return undefined;
  }
  return n;
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
  (error: unknown) => {
    console.error(`simulator failed: ${(error as Error)?.stack ?? String(error)}`);
    process.exit(ExitCodes.COULD_NOT_RUN);
  },
);

import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCodes, formatSummary } from '../../checker/run-summary.js';
import { defineCommand, judgedRunExitCodes, type OptionValues } from '../../cli/command-spec.js';
import { runCommand } from '../../cli/run-command.js';
import { readScenario, ScenarioError, type Scenario } from '../../scenarios/format/index.js';
import { formatSimDetails } from '../report/format-details.js';
import { readCellFile, type CellRun } from './cell-file.js';
import { usersOfCell } from './cell-slice.js';
import { CellsErrorCodes } from './cells-error-codes.js';
import { formatCellsTable } from './format-cells.js';
import { mergeCells, type MergedCells } from './merge-cells.js';
import { formatDuration, shortenScenario } from '../shorten-scenario.js';
import { ToolError } from '../../cli/tool-error.js';

/*
 * Runs a scenario's population as independent cells (simulator/README.md, "Split runs") and merges
 * them into one report. Each cell is a job of its own, `npm run sim -- <file> --cell i/N --json
 * DIR/cell-i.json`, run P at a time on this machine; cells run elsewhere (one per Kubernetes Indexed
 * Job pod, say) are merged from their files with --merge. The command line: `npm run sim:cells -- --help`.
 */

const SIM_CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli.ts');

const command = defineCommand({
  name: 'sim:cells',
  purpose: "runs a scenario's whole population as independent simulator cells and merges them exactly into one report",
  positionals: [{ name: 'scenario.yaml', description: "the scenario; with --merge, followed by the cells' summary files", variadic: true }],
  forms: ['<scenario.yaml> --merge FILE... [--json FILE] [--html FILE] [--capacity]'],
  options: {
    cells: { type: 'number', integer: true, min: 1, description: 'how many cells (required unless --merge)' },
    parallel: { type: 'number', integer: true, min: 1, description: 'cells at a time (default: the available cores)' },
    'out-dir': { type: 'string', placeholder: 'DIR', description: "where the cells' files go (default out/cells/<scenario>)" },
    seed: { type: 'number', integer: true, min: 0, description: "the seed (default the scenario's)" },
    'duration-s': { type: 'number', above: 0, placeholder: 'S', description: 'shorten the scenario in every cell' },
    merge: { type: 'boolean', description: "merge the cells' summary files given after the scenario instead of running" },
    json: { type: 'string', placeholder: 'FILE', description: 'write the merged summary as JSON' },
    html: { type: 'string', placeholder: 'FILE', description: 'write an HTML report' },
    capacity: { type: 'boolean', description: 'print the capacity plan after the summary' },
    quiet: { type: 'boolean', description: 'no line per finished cell' },
  },
  exitCodes: judgedRunExitCodes({
    invariant: 'an invariant was violated in a cell',
    couldNotRun: 'could not run: bad arguments, a cell that could not run, files that do not make one run (CELLS_* codes)',
  }),
  badArgumentsCode: CellsErrorCodes.BAD_ARGUMENTS,
});

type CellsValues = OptionValues<typeof command.options>;

await runCommand(
  command,
  async ({ values, positionals }) => {
    const file = positionals[0]!;
    const scenario = await readScenario(file);
    let merged: MergedCells;
    if (values.merge) {
      if (positionals.length < 2)
        throw new ToolError(CellsErrorCodes.BAD_ARGUMENTS, "--merge needs the cells' summary files after the scenario");
      if (values.cells !== undefined || values['duration-s'] !== undefined || values.seed !== undefined) {
        throw new ToolError(
          CellsErrorCodes.BAD_ARGUMENTS,
          '--merge takes the files as they are: --cells, --seed and --duration-s belong to the run',
        );
      }
      const runs = await Promise.all(positionals.slice(1).map((p) => readCellFile(p)));
      merged = mergeCells(scenarioAsRun(scenario, runs), runs);
    } else {
      if (positionals.length !== 1)
        throw new ToolError(CellsErrorCodes.BAD_ARGUMENTS, `one scenario file, got ${positionals.length} (merging files needs --merge)`);
      merged = await runCells(file, scenario, values);
    }
    console.log(formatSummary(merged.summary));
    console.log(formatSimDetails(merged));
    console.log(formatCellsTable(merged.summary));
    if (merged.capacityText && values.capacity) console.log(`\n${merged.capacityText}`);
    if (values.json) await writeFile(values.json, `${JSON.stringify({ ...merged.summary, series: merged.series }, null, 2)}\n`);
    if (values.html) {
      const { writeSimHtml } = await import('../report/html-report.js');
      await writeSimHtml(values.html, merged, merged.capacity);
    }
    return merged.exitCode;
  },
  { knownErrors: [ScenarioError] },
);

/** The scenario as the cells ran it: a --duration-s the cells were given shortens it here too. */
function scenarioAsRun(scenario: Scenario, runs: readonly CellRun[]): Scenario {
  const durationS = runs[0]?.run.cell.duration_s;
  if (durationS === undefined || durationS === scenario.duration_s) return scenario;
  return shortenScenario(scenario, durationS);
}

/** Runs every cell as a child process of the simulator CLI, `parallel` at a time, then merges their files. */
async function runCells(file: string, scenario: Scenario, values: CellsValues): Promise<MergedCells> {
  const count = values.cells;
  if (count === undefined) throw new ToolError(CellsErrorCodes.BAD_ARGUMENTS, '--cells N is required (or --merge FILE...)');
  usersOfCell(scenario.population.users, { index: 0, count });
  const parallel = values.parallel ?? Math.max(1, availableParallelism());
  const seed = values.seed ?? scenario.seed;
  const outDir = resolve(values['out-dir'] ?? join('out', 'cells', scenario.name));
  await mkdir(outDir, { recursive: true });
  const shared = ['--seed', String(seed), ...(values['duration-s'] !== undefined ? ['--duration-s', String(values['duration-s'])] : [])];

  const started = performance.now();
  const files: string[] = [];
  const failures: string[] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count && failures.length === 0) {
      const index = next++;
      const json = join(outDir, `cell-${index}.json`);
      const log = join(outDir, `cell-${index}.log`);
      const cellStarted = performance.now();
      const code = await runChild([SIM_CLI, file, ...shared, '--cell', `${index}/${count}`, '--quiet', '--json', json], log);
      done++;
      const wallS = (performance.now() - cellStarted) / 1000;
      if (code === ExitCodes.COULD_NOT_RUN || code === null) {
        failures.push(`cell ${index}/${count} could not run (exit ${code ?? 'signal'}); its output: ${log}`);
        continue;
      }
      files.push(json);
      if (!values.quiet) {
        const elapsedS = (performance.now() - started) / 1000;
        const etaS = (elapsedS / done) * (count - done);
        process.stderr.write(
          `cell ${index}/${count} exit ${code} in ${wallS.toFixed(0)} s · ${done}/${count} done · ${formatDuration(elapsedS)} so far, ETA ${formatDuration(etaS)}\n`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  if (failures.length > 0) throw new ToolError(CellsErrorCodes.CELL_FAILED, failures.join('\n'));
  const runs = await Promise.all(files.map((f) => readCellFile(f)));
  const durationOverride = values['duration-s'] !== undefined ? ` --duration-s ${values['duration-s']}` : '';
  return mergeCells(scenarioAsRun(scenario, runs), runs, {
    wallS: (performance.now() - started) / 1000,
    reproduce: `npm run sim:cells -- ${file} --seed ${seed} --cells ${count}${durationOverride}`,
  });
}

/** Runs the simulator CLI in a child process with its output going to `logPath`; resolves to its exit code (null if killed). */
function runChild(args: string[], logPath: string): Promise<number | null> {
  return new Promise((resolvePromise, reject) => {
    const log = createWriteStream(logPath);
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('error', reject);
    child.on('close', (code) => {
      log.end(() => resolvePromise(code));
    });
  });
}

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readScenario, ScenarioError } from '../../scenarios/format/index.js';
import { writeHtmlReport } from '../../reports/index.js';
import { ExitCodes } from '../../checker/run-summary.js';
import { defineCommand } from '../../cli/command-spec.js';
import { executeCommand } from '../../cli/run-command.js';
import { ASSUMPTION_SOURCES, DEFAULT_CAPACITY_ASSUMPTIONS, type CapacityAssumptions } from './capacity-assumptions.js';
import { CapacityErrorCodes } from './capacity-error-codes.js';
import { capacityComparisonTable, compareCapacity, formatCapacityComparison, type CapacityComparison } from './compare-capacity.js';
import { readMeasuredCapacity, type MeasuredCapacity } from './measured-capacity.js';
import { ToolError } from '../../cli/tool-error.js';

/*
 * npm run capacity: prints the capacity plan of a scenario: the design card's figures, the model
 * with the card's assumptions, with the defaults, and with measured per-node capacity.
 */
const capacityCommand = defineCommand({
  name: 'capacity',
  purpose:
    "what each tier needs for a scenario: the design card's figures, the model with the card's assumptions, the defaults and measured per-node capacity",
  positionals: [{ name: 'scenario.yaml', description: 'the scenario file (e.g. scenarios/seed-capacity.yaml)' }],
  options: {
    measured: { type: 'string', placeholder: 'FILE.json', description: 'measured per-node capacity (docs/capacity.md)' },
    assume: {
      type: 'string',
      multiple: true,
      placeholder: 'name=value',
      description: `override an assumption: ${Object.keys(DEFAULT_CAPACITY_ASSUMPTIONS).join(', ')}`,
    },
    json: { type: 'string', placeholder: 'FILE', description: 'write the comparison as JSON' },
    html: { type: 'string', placeholder: 'FILE', description: 'write it as an HTML report' },
  },
  exitCodes: [
    { code: ExitCodes.OK, meaning: 'planned' },
    { code: ExitCodes.COULD_NOT_RUN, meaning: 'bad arguments, scenario, assumption or measured file (CAPACITY_* and scenario codes)' },
  ],
  badArgumentsCode: CapacityErrorCodes.BAD_ARGUMENTS,
});

/** `--assume headroom=1.2 --assume replicationFactor=2` → overrides of the default assumptions. */
export function parseAssumptionOverrides(pairs: readonly string[]): Partial<CapacityAssumptions> {
  const out: Partial<CapacityAssumptions> = {};
  for (const pair of pairs) {
    const match = /^([A-Za-z]+)=(.+)$/.exec(pair);
    const name = match?.[1] as keyof CapacityAssumptions | undefined;
    if (!match || !name || !(name in DEFAULT_CAPACITY_ASSUMPTIONS)) {
      throw new ToolError(
        CapacityErrorCodes.BAD_ARGUMENTS,
        `--assume ${pair}: expected name=value with a name from: ${Object.keys(DEFAULT_CAPACITY_ASSUMPTIONS).join(', ')}`,
      );
    }
    const value = Number(match[2]);
    if (!Number.isFinite(value)) throw new ToolError(CapacityErrorCodes.BAD_ARGUMENTS, `--assume ${pair}: ${match[2]} is not a number`);
    out[name] = value;
  }
  return out;
}

function formatAssumptions(c: CapacityComparison, overrides: Partial<CapacityAssumptions>, measured: MeasuredCapacity | undefined): string {
  const lines = ['assumptions (defaults column; the card column uses headroom 1, peak 1, overhead 0, 1 log write per message)'];
  for (const [name, value] of Object.entries(c.plans.defaults.assumptions)) {
    const key = name as keyof CapacityAssumptions;
    const source = key in overrides ? 'given with --assume' : ASSUMPTION_SOURCES[key];
    const m = measured?.[key as keyof MeasuredCapacity];
    lines.push(`  ${name.padEnd(28)} ${String(value).padStart(14)}  ${source}${m !== undefined ? ` · measured: ${m}` : ''}`);
  }
  return lines.join('\n');
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(value, null, 2) + '\n', 'utf8');
}

/** Runs the command on `argv`; returns its exit code (0, or 3 with the reason on stderr). */
export async function runCapacityCli(argv: readonly string[]): Promise<number> {
  const code = await executeCommand(
    capacityCommand,
    async ({ values, positionals: [scenarioPath] }) => {
      const scenario = await readScenario(scenarioPath!);
      const overrides = parseAssumptionOverrides(values.assume);
      const measured = values.measured !== undefined ? await readMeasuredCapacity(values.measured) : undefined;
      const comparison = compareCapacity(scenario, { assumptions: overrides, ...(measured ? { measured } : {}) });
      console.log(formatCapacityComparison(comparison));
      console.log('');
      console.log(formatAssumptions(comparison, overrides, measured));
      if (values.json) await writeJson(values.json, comparison);
      if (values.html) {
        await writeHtmlReport(values.html, {
          title: `Capacity plan: ${scenario.name}`,
          tables: [capacityComparisonTable(comparison)],
          notes: [
            "The design card column quotes the card's table; the next column is this model with the card's own assumptions and reproduces it.",
            ...Object.entries(comparison.plans.defaults.assumptions).map(
              ([k, v]) => `${k} = ${v}: ${k in overrides ? 'given with --assume' : ASSUMPTION_SOURCES[k as keyof CapacityAssumptions]}`,
            ),
          ],
        });
      }
      return ExitCodes.OK;
    },
    { argv, out: (text) => console.log(text.trimEnd()), err: (text) => console.error(text.trimEnd()) },
    { knownErrors: [ScenarioError] },
  );
  return code ?? ExitCodes.OK;
}

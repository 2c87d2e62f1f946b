import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { readScenario, ScenarioError } from '../../scenarios/format/index.js';
import { writeHtmlReport } from '../../reports/index.js';
import { ASSUMPTION_SOURCES, DEFAULT_CAPACITY_ASSUMPTIONS, type CapacityAssumptions } from './capacity-assumptions.js';
import { CapacityErrorCodes } from './capacity-error-codes.js';
import { capacityComparisonTable, compareCapacity, formatCapacityComparison, type CapacityComparison } from './compare-capacity.js';
import { readMeasuredCapacity, type MeasuredCapacity } from './measured-capacity.js';
import { ToolError } from '../../cli/tool-error.js';

/*
 * npm run capacity -- scenarios/<file>.yaml [--measured FILE.json] [--assume name=value …] [--json OUT] [--html OUT]
 * Prints the capacity plan of a scenario: the design card's figures, the model with the card's
 * assumptions, with the defaults, and with measured per-node capacity. Exit 0, or 3 with a reason.
 */

const USAGE = 'usage: npm run capacity -- scenarios/<file>.yaml [--measured FILE.json] [--assume name=value …] [--json OUT] [--html OUT]';
const EXIT_OK = 0;
const EXIT_COULD_NOT_RUN = 3;

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

/** Runs the command; returns its exit code (0, or 3 with the reason on stderr). */
export async function runCapacityCli(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { measured: { type: 'string' }, assume: { type: 'string', multiple: true }, json: { type: 'string' }, html: { type: 'string' } },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return EXIT_COULD_NOT_RUN;
  }
  if (args.positionals.length !== 1) {
    console.error(`give exactly one scenario file\n${USAGE}`);
    return EXIT_COULD_NOT_RUN;
  }
  try {
    const scenario = await readScenario(args.positionals[0]!);
    const overrides = parseAssumptionOverrides(args.values.assume ?? []);
    const measured = args.values.measured !== undefined ? await readMeasuredCapacity(args.values.measured) : undefined;
    const comparison = compareCapacity(scenario, { assumptions: overrides, ...(measured ? { measured } : {}) });
    console.log(formatCapacityComparison(comparison));
    console.log('');
    console.log(formatAssumptions(comparison, overrides, measured));
    if (args.values.json) await writeJson(args.values.json, comparison);
    if (args.values.html) {
      await writeHtmlReport(args.values.html, {
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
    return EXIT_OK;
  } catch (error) {
    if (error instanceof ToolError || error instanceof ScenarioError) {
      console.error(`capacity: could not plan (${error.code}): ${error.message}`);
      return EXIT_COULD_NOT_RUN;
    }
    throw error;
  }
}

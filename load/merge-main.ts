/**
 * `npm run load:merge`: checks the histories the shards of one sharded run wrote (`--history`).
 *
 *   npm run load:merge -- FILE… [--scenario scenarios/<file>.yaml] [--slo NAME=VALUE …] [--json FILE] [--junit FILE] [--html FILE]
 *
 * The objectives are the scenario's when `--scenario` is given (else deliver p99 < 200 ms and zero
 * violations), with --slo overrides. Exit codes as `npm run load`; a missing shard exits 3.
 */
import { parseArgs } from 'node:util';
import { ExitCodes, exitCodeOf, formatSummary } from '../checker/run-summary.js';
import { readScenario, ScenarioError } from '../scenarios/format/index.js';
import { readHistoryFile } from './history-file.js';
import { mergeHistories, mergedSummary, missingShards } from './merge.js';
import { writeOutputs } from './outputs.js';
import { SloSpecError, objectivesOf, parseSloOverride, withOverrides } from './slo-gate.js';
import { ToolError } from '../cli/tool-error.js';

const USAGE = 'usage: npm run load:merge -- FILE… [--scenario FILE] [--slo NAME=VALUE]… [--allow-missing] [--json FILE] [--junit FILE] [--html FILE]';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(ExitCodes.COULD_NOT_RUN);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      scenario: { type: 'string' },
      slo: { type: 'string', multiple: true, default: [] },
      'allow-missing': { type: 'boolean', default: false },
      json: { type: 'string' },
      junit: { type: 'string' },
      html: { type: 'string' },
    },
  });
} catch (error) {
  fail(`${(error as Error).message}\n${USAGE}`);
}
const { values, positionals } = parsed;
if (positionals.length === 0) fail(`give the shards' history files\n${USAGE}`);

const startedMs = performance.now();
try {
  const defaults = { deliver_p99_ms: 200, violations_max: 0 };
  const slo = values.scenario ? (await readScenario(values.scenario)).slo : defaults;
  const objectives = withOverrides(objectivesOf(slo), values.slo.map(parseSloOverride));
  const shards = await Promise.all(positionals.map(readHistoryFile));
  const missing = missingShards(shards.map((s) => s.header));
  if (missing.length > 0 && !values['allow-missing']) fail(`could not merge: shard(s) ${missing.join(', ')} missing (--allow-missing checks what is there)`);
  const history = mergeHistories(shards);
  process.stderr.write(`· checking ${history.length} events from ${shards.length} shard(s)\n`);
  const summary = mergedSummary(shards, history, objectives, (performance.now() - startedMs) / 1000);
  process.stdout.write(`${formatSummary(summary)}\n`);
  await writeOutputs(summary, { json: values.json, junit: values.junit, html: values.html });
  process.exit(exitCodeOf(summary));
} catch (error) {
  if (error instanceof ScenarioError || error instanceof ToolError || error instanceof SloSpecError) fail(`could not merge: ${error.message}`);
  fail(`could not merge: ${(error as Error).stack ?? String(error)}`);
}

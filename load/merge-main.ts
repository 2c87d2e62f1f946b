/**
 * `npm run load:merge`: checks the histories the shards of one sharded run wrote (`--history`).
 * The objectives are the scenario's when `--scenario` is given (else deliver p99 < 200 ms and zero
 * violations), with --slo overrides. The command line: `npm run load:merge -- --help`.
 */
import { exitCodeOf, formatSummary } from '../checker/run-summary.js';
import { defineCommand, judgedRunExitCodes } from '../cli/command-spec.js';
import { runCommand } from '../cli/run-command.js';
import { ToolError } from '../cli/tool-error.js';
import { readScenario, ScenarioError } from '../scenarios/format/index.js';
import { LoadErrorCodes } from './error-codes.js';
import { readHistoryFile } from './history-file.js';
import { mergeHistories, mergedSummary, missingShards } from './merge.js';
import { writeOutputs } from './outputs.js';
import { SloSpecError, objectivesOf, parseSloOverride, withOverrides } from './slo-gate.js';

const command = defineCommand({
  name: 'load:merge',
  purpose: 'checks the histories the shards of one sharded load run wrote (--history) as one run',
  positionals: [{ name: 'history', description: "the shards' history files", variadic: true }],
  options: {
    scenario: {
      type: 'string',
      placeholder: 'FILE',
      description: "judge by this scenario's objectives (default deliver p99 < 200 ms, no violation)",
    },
    slo: { type: 'string', multiple: true, placeholder: 'NAME=VALUE', description: 'override an objective' },
    'allow-missing': { type: 'boolean', description: 'check the shards that are there when some are missing' },
    json: { type: 'string', placeholder: 'FILE', description: 'write the summary as JSON (docs/summaries.md)' },
    junit: { type: 'string', placeholder: 'FILE', description: 'write a JUnit report' },
    html: { type: 'string', placeholder: 'FILE', description: 'write a self-contained HTML report' },
  },
  exitCodes: judgedRunExitCodes({
    couldNotRun: 'could not merge: a shard missing (LOAD_MISSING_SHARDS), a file that is not a history, shards of different runs',
  }),
  badArgumentsCode: LoadErrorCodes.BAD_OPTION,
});

await runCommand(
  command,
  async ({ values, positionals }) => {
    const startedMs = performance.now();
    const defaults = { deliver_p99_ms: 200, violations_max: 0 };
    const slo = values.scenario ? (await readScenario(values.scenario)).slo : defaults;
    const objectives = withOverrides(objectivesOf(slo), values.slo.map(parseSloOverride));
    const shards = await Promise.all(positionals.map(readHistoryFile));
    const missing = missingShards(shards.map((s) => s.header));
    if (missing.length > 0 && !values['allow-missing']) {
      throw new ToolError(LoadErrorCodes.MISSING_SHARDS, `shard(s) ${missing.join(', ')} missing`, {
        hint: '--allow-missing checks what is there',
      });
    }
    const history = mergeHistories(shards);
    process.stderr.write(`· checking ${history.length} events from ${shards.length} shard(s)\n`);
    const summary = mergedSummary(shards, history, objectives, (performance.now() - startedMs) / 1000);
    process.stdout.write(`${formatSummary(summary)}\n`);
    await writeOutputs(summary, { json: values.json, junit: values.junit, html: values.html });
    return exitCodeOf(summary);
  },
  { knownErrors: [ScenarioError, SloSpecError] },
);

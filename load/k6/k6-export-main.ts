/**
 * `npm run k6:export`: a scenario as a typed k6 script (plus the protocol module it imports).
 * Options and exit codes: `npm run k6:export -- --help`.
 */
import { basename } from 'node:path';
import { ExitCodes } from '../../checker/run-summary.js';
import { defineCommand } from '../../cli/command-spec.js';
import { runCommand } from '../../cli/run-command.js';
import { ToolError } from '../../cli/tool-error.js';
import { readScenario, ScenarioError } from '../../scenarios/format/index.js';
import { K6ExportErrorCodes } from './export/k6-export-error-codes.js';
import { writeK6Script } from './export/write-k6-script.js';

const command = defineCommand({
  name: 'k6:export',
  purpose: 'writes a scenario as a typed k6 script: its send rate as an arrival-rate scenario, its SLOs as thresholds (k6 is not run here)',
  positionals: [{ name: 'scenario.yaml', description: 'the scenario file (scenarios/README.md)' }],
  options: {
    out: { type: 'string', placeholder: 'FILE.ts', description: 'the script to write (required; the protocol module goes beside it)' },
  },
  exitCodes: [
    { code: ExitCodes.OK, meaning: 'written' },
    {
      code: ExitCodes.COULD_NOT_RUN,
      meaning: 'bad option (K6_EXPORT_BAD_OPTION), invalid scenario, unwritable path (K6_EXPORT_UNWRITABLE)',
    },
  ],
  badArgumentsCode: K6ExportErrorCodes.BAD_OPTION,
});

await runCommand(
  command,
  async ({ values, positionals: [scenarioPath] }) => {
    const outPath = values.out;
    if (!outPath) throw new ToolError(K6ExportErrorCodes.BAD_OPTION, 'give --out FILE.ts');
    if (!outPath.endsWith('.ts'))
      throw new ToolError(K6ExportErrorCodes.BAD_OPTION, `--out names a TypeScript file (*.ts), not ${outPath}`);
    const scenario = await readScenario(scenarioPath!);
    const written = await writeK6Script(scenario, basename(scenarioPath!), outPath);
    process.stdout.write(
      `wrote ${written.scriptPath} and ${written.sessionModulePath}\nrun it: k6 run ${written.scriptPath} -e CHAT_WS_URL=ws://HOST:PORT/ws\n`,
    );
    return ExitCodes.OK;
  },
  { knownErrors: [ScenarioError] },
);

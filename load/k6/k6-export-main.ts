/**
 * `npm run k6:export`: a scenario as a typed k6 script (plus the protocol module it imports).
 *
 *   npm run k6:export -- scenarios/<file>.yaml --out FILE.ts
 *
 * Exit 0 when written, 3 when it could not be (bad option, invalid scenario, unwritable path).
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { ExitCodes } from '../../checker/run-summary.js';
import { readScenario, ScenarioError } from '../../scenarios/format/index.js';
import { K6ExportErrorCodes } from './export/k6-export-error-codes.js';
import { writeK6Script } from './export/write-k6-script.js';
import { ToolError } from '../../cli/tool-error.js';

const USAGE = 'usage: npm run k6:export -- scenarios/<file>.yaml --out FILE.ts';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(ExitCodes.COULD_NOT_RUN);
}

function parseOptions(): { scenarioPath: string; outPath: string } {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { out: { type: 'string' } } });
  } catch (error) {
    throw new ToolError(K6ExportErrorCodes.BAD_OPTION, `${(error as Error).message}\n${USAGE}`);
  }
  const [scenarioPath, ...extra] = parsed.positionals;
  if (!scenarioPath || extra.length > 0) throw new ToolError(K6ExportErrorCodes.BAD_OPTION, `give exactly one scenario file\n${USAGE}`);
  if (!parsed.values.out) throw new ToolError(K6ExportErrorCodes.BAD_OPTION, `give --out FILE.ts\n${USAGE}`);
  if (!parsed.values.out.endsWith('.ts')) throw new ToolError(K6ExportErrorCodes.BAD_OPTION, `--out names a TypeScript file (*.ts), not ${parsed.values.out}`);
  return { scenarioPath, outPath: parsed.values.out };
}

try {
  const { scenarioPath, outPath } = parseOptions();
  const scenario = await readScenario(scenarioPath);
  const written = await writeK6Script(scenario, basename(scenarioPath), outPath);
  process.stdout.write(`wrote ${written.scriptPath} and ${written.sessionModulePath}\nrun it: k6 run ${written.scriptPath} -e CHAT_WS_URL=ws://HOST:PORT/ws\n`);
} catch (error) {
  if (error instanceof ScenarioError || error instanceof ToolError) fail(`could not export: ${error.message}`);
  fail(`could not export: ${(error as Error).stack ?? String(error)}`);
}

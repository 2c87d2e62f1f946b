/**
 * `npm run alerts:test`: checks the SLO rules with promtool (from Debian's prometheus package,
 * installed the way `npm run services` installs Prometheus when it is missing and we are root):
 *   1. slo-rules.yml is what the SLO definitions generate (else: `npm run alerts:write`);
 *   2. `promtool check rules` on it;
 *   3. `promtool test rules` on the hand-written unit tests (slo-rules.test.yml);
 *   4. `promtool check config` on the config the local Prometheus is started with, so the
 *      rule_files reference it carries resolves and loads.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../local/config.js';
import { ensureCommand } from '../local/install.js';
import { prometheusConfig } from '../local/prometheus.js';
import { ExitCodes } from '../../checker/run-summary.js';
import { defineCommand, EXIT_OK } from '../../cli/command-spec.js';
import { runCommand } from '../../cli/run-command.js';
import { ToolError } from '../../cli/tool-error.js';
import { AlertsErrorCodes } from './error-codes.js';
import { ALERTS_DIR, SLO_RULES_PATH, SLO_RULES_TESTS_PATH } from './rule-file-paths.js';
import { sloRuleFileText } from './slo-rule-file.js';

/** Every failure of this tool exits 1, as it always has (a CI step that checks rules fails on any non-zero). */
const CHECK_FAILED = ExitCodes.INVARIANT_VIOLATED;

function checkGeneratedFileIsCurrent(): void {
  if (fs.readFileSync(SLO_RULES_PATH, 'utf8') !== sloRuleFileText()) {
    throw new ToolError(
      AlertsErrorCodes.RULES_STALE,
      `${path.relative(process.cwd(), SLO_RULES_PATH)} is not what the SLO definitions generate: run \`npm run alerts:write\` and commit it`,
      { exitCode: CHECK_FAILED },
    );
  }
}

function runPromtool(promtool: string, args: string[]): void {
  console.log(`$ promtool ${args.join(' ')}`);
  const result = spawnSync(promtool, args, { cwd: ALERTS_DIR, stdio: 'inherit' });
  if (result.error)
    throw new ToolError(AlertsErrorCodes.PROMTOOL_FAILED, `promtool could not run: ${result.error.message}`, { exitCode: CHECK_FAILED });
  if (result.status !== 0)
    throw new ToolError(AlertsErrorCodes.PROMTOOL_FAILED, `\`promtool ${args.join(' ')}\` exited with ${result.status ?? result.signal}`, {
      exitCode: CHECK_FAILED,
    });
}

async function main(): Promise<number> {
  checkGeneratedFileIsCurrent();
  const config = loadConfig();
  const promtool = await ensureCommand('prometheus', 'promtool', 'prometheus', path.join(config.root, 'prometheus', 'install.log'));
  runPromtool(promtool, ['check', 'rules', path.basename(SLO_RULES_PATH)]);
  runPromtool(promtool, ['test', 'rules', path.basename(SLO_RULES_TESTS_PATH)]);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-alerts-'));
  try {
    const localConfigFile = path.join(scratch, 'prometheus.yml');
    fs.writeFileSync(localConfigFile, prometheusConfig(config));
    runPromtool(promtool, ['check', 'config', localConfigFile]);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  console.log('alert rules: generated file current, promtool checks and unit tests pass');
  return ExitCodes.OK;
}

await runCommand(
  defineCommand({
    name: 'alerts:test',
    purpose:
      'checks the SLO recording and alerting rules: generated file current, promtool check rules, promtool unit tests, the local Prometheus config',
    options: {},
    exitCodes: [
      EXIT_OK,
      {
        code: CHECK_FAILED,
        meaning:
          'a check failed: ALERTS_RULES_STALE (run npm run alerts:write) or ALERTS_PROMTOOL_FAILED (promtool output above), or promtool could not be installed',
      },
      { code: ExitCodes.COULD_NOT_RUN, meaning: 'bad command line' },
    ],
  }),
  main,
);

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
import { AlertRulesStaleError, PromtoolFailedError } from './errors.js';
import { ALERTS_DIR, SLO_RULES_PATH, SLO_RULES_TESTS_PATH } from './rule-file-paths.js';
import { sloRuleFileText } from './slo-rule-file.js';

function checkGeneratedFileIsCurrent(): void {
  if (fs.readFileSync(SLO_RULES_PATH, 'utf8') !== sloRuleFileText()) {
    throw new AlertRulesStaleError(`${path.relative(process.cwd(), SLO_RULES_PATH)} is not what the SLO definitions generate: run \`npm run alerts:write\` and commit it`);
  }
}

function runPromtool(promtool: string, args: string[]): void {
  console.log(`$ promtool ${args.join(' ')}`);
  const result = spawnSync(promtool, args, { cwd: ALERTS_DIR, stdio: 'inherit' });
  if (result.error) throw new PromtoolFailedError(`promtool could not run: ${result.error.message}`);
  if (result.status !== 0) throw new PromtoolFailedError(`\`promtool ${args.join(' ')}\` exited with ${result.status ?? result.signal}`);
}

async function main(): Promise<void> {
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
}

try {
  await main();
} catch (error) {
  const code = (error as { code?: unknown }).code;
  console.error(`${typeof code === 'string' ? `${code}: ` : ''}${(error as Error).message}`);
  process.exitCode = 1;
}

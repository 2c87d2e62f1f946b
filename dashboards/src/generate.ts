/**
 * `npm run dashboards`: writes every dashboard of dashboard-files.ts as JSON into
 * dashboards/grafana/dashboards/. `npm run dashboards -- --check` writes nothing and exits 1
 * naming each file that differs from what the code generates (the test does the same check).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ExitCodes } from '../../checker/run-summary.js';
import { defineCommand, EXIT_COULD_NOT_RUN } from '../../cli/command-spec.js';
import { runCommand } from '../../cli/run-command.js';
import { ToolError } from '../../cli/tool-error.js';
import { DASHBOARD_DIR, DASHBOARD_FILES, renderDashboard } from './dashboard-files.js';

/** `--check` found files that differ from the code: exit 1, as a failed check. */
const STALE_EXIT = ExitCodes.INVARIANT_VIOLATED;

const command = defineCommand({
  name: 'dashboards',
  purpose: 'regenerates the Grafana dashboards (dashboards/grafana/dashboards/*.json) from dashboards/src',
  options: {
    check: { type: 'boolean', description: 'write nothing; fail naming each file that differs from what the code generates' },
  },
  exitCodes: [
    { code: ExitCodes.OK, meaning: 'written (or, with --check, every file current)' },
    { code: STALE_EXIT, meaning: 'with --check: files out of date (DASHBOARDS_STALE)' },
    EXIT_COULD_NOT_RUN,
  ],
});

await runCommand(command, ({ values }) => {
  const stale: string[] = [];
  for (const { file, build } of DASHBOARD_FILES) {
    const target = path.join(DASHBOARD_DIR, file);
    const text = renderDashboard(build());
    if (values.check) {
      let current: string | undefined;
      try {
        current = readFileSync(target, 'utf8');
      } catch {
        current = undefined;
      }
      if (current !== text) stale.push(file);
      continue;
    }
    writeFileSync(target, text);
    process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
  }
  if (stale.length > 0)
    throw new ToolError('DASHBOARDS_STALE', `out of date (run npm run dashboards): ${stale.join(', ')}`, { exitCode: STALE_EXIT });
  return ExitCodes.OK;
});

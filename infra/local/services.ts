/**
 * `npm run services`: local backing services as plain processes (no Docker): Cassandra, Redis, S3
 * (versitygw) and Prometheus, on private loopback ports, with all state under .services/.
 * See infra/local/README.md; `npm run services -- --help` for the command line.
 */
import { ExitCodes } from '../../checker/run-summary.js';
import { defineCommand, EXIT_OK } from '../../cli/command-spec.js';
import { runCommand } from '../../cli/run-command.js';
import { ToolError } from '../../cli/tool-error.js';
import { usageText } from '../../cli/usage-text.js';
import { ServicesErrorCodes } from './error-codes.js';
import { formatEnv, serviceEnv, statusServices, stopServices, upServices, SERVICE_NAMES } from './services-api.js';

// The AWS SDK warns on every run that its 2027 releases will need Node 22; we pin the SDK in
// package-lock.json, so in this tool the warning is only noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const COMMANDS = ['up', 'down', 'status', 'env', 'help'] as const;

const command = defineCommand({
  name: 'services',
  purpose: 'local Cassandra, Redis, S3 and Prometheus as plain processes on private loopback ports (state under .services/)',
  positionals: [
    {
      name: 'command',
      description:
        'up: install what is missing, start, wait until healthy · down: stop our own processes (by pid file) · status: running/stopped, pid, port, health · env: KEY=value lines for eval "$(npm run -s services -- env)"',
    },
    { name: 'service', description: `which services (default all): ${SERVICE_NAMES.join(', ')}`, optional: true, variadic: true },
  ],
  options: {},
  exitCodes: [
    EXIT_OK,
    {
      code: ExitCodes.INVARIANT_VIOLATED,
      meaning:
        'a service failed to install, start, become healthy or stop, or a setting is bad (SERVICES_* codes; the message names the service and its log)',
    },
    { code: ExitCodes.COULD_NOT_RUN, meaning: 'bad command line' },
  ],
  badArgumentsCode: ServicesErrorCodes.BAD_ARGUMENTS,
  notes: ['Settings come from LOCAL_* variables (infra/local/README.md).'],
});

await runCommand(command, async ({ positionals: [verb, ...names] }) => {
  const log = (message: string) => console.log(message);
  switch (verb as (typeof COMMANDS)[number]) {
    case 'up': {
      const started = Date.now();
      const results = await upServices(names, { log });
      for (const r of results) {
        const what = r.started ? `started pid ${r.pid}, healthy after ${seconds(r.readyMs)}` : `already running, pid ${r.pid}`;
        const install = r.installMs >= 1_000 ? ` (install ${seconds(r.installMs)})` : '';
        console.log(`${r.service}: ${what} on port ${r.port}: ${r.health}${install}`);
      }
      console.log(`all up in ${seconds(Date.now() - started)}`);
      return ExitCodes.OK;
    }
    case 'down': {
      for (const r of await stopServices(names, { log })) {
        console.log(`${r.service}: ${r.outcome === 'not-running' ? 'not running' : `${r.outcome} pid ${r.pid}`}`);
      }
      return ExitCodes.OK;
    }
    case 'status': {
      const rows = (await statusServices(names)).map((s) => [s.service, s.state, s.pid ? String(s.pid) : '-', String(s.port), s.health]);
      printTable([['SERVICE', 'STATE', 'PID', 'PORT', 'HEALTH'], ...rows]);
      return ExitCodes.OK;
    }
    case 'env':
      if (names.length > 0) throw new ToolError(ServicesErrorCodes.BAD_ARGUMENTS, 'env takes no service names');
      console.log(formatEnv(serviceEnv()));
      return ExitCodes.OK;
    case 'help':
      console.log(usageText(command));
      return ExitCodes.OK;
    default:
      throw new ToolError(ServicesErrorCodes.BAD_ARGUMENTS, `unknown command "${verb}"; one of ${COMMANDS.join(', ')}`);
  }
});

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function printTable(rows: string[][]): void {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  for (const row of rows) console.log(row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0))).join('  '));
}

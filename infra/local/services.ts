/**
 * Local backing services as plain processes (no Docker): Cassandra, Redis, S3 (versitygw) and
 * Prometheus, on private loopback ports, with all state under .services/.
 *
 *   npm run services -- up [names...]     install what is missing, start, wait until healthy
 *   npm run services -- down [names...]   stop our own processes (by pid file)
 *   npm run services -- status            running/stopped, pid, port, health
 *   npm run services -- env               KEY=value lines: eval "$(npm run -s services -- env)"
 *
 * See infra/local/README.md.
 */
import { ConfigError, ServicesFailedError } from './errors.js';
import { formatEnv, serviceEnv, statusServices, stopServices, upServices, SERVICE_NAMES } from './services-api.js';

// The AWS SDK warns on every run that its 2027 releases will need Node 22; we pin the SDK in
// package-lock.json, so in this tool the warning is only noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `usage: services <up|down|status|env> [${SERVICE_NAMES.join('|')} ...]`;

async function main(argv: string[]): Promise<number> {
  const [command, ...names] = argv;
  const log = (message: string) => console.log(message);
  switch (command) {
    case 'up': {
      const started = Date.now();
      const results = await upServices(names, { log });
      for (const r of results) {
        const what = r.started ? `started pid ${r.pid}, healthy after ${seconds(r.readyMs)}` : `already running, pid ${r.pid}`;
        const install = r.installMs >= 1_000 ? ` (install ${seconds(r.installMs)})` : '';
        console.log(`${r.service}: ${what} on port ${r.port}: ${r.health}${install}`);
      }
      console.log(`all up in ${seconds(Date.now() - started)}`);
      return 0;
    }
    case 'down': {
      for (const r of await stopServices(names, { log })) {
        console.log(`${r.service}: ${r.outcome === 'not-running' ? 'not running' : `${r.outcome} pid ${r.pid}`}`);
      }
      return 0;
    }
    case 'status': {
      const rows = (await statusServices(names)).map((s) => [s.service, s.state, s.pid ? String(s.pid) : '-', String(s.port), s.health]);
      printTable([['SERVICE', 'STATE', 'PID', 'PORT', 'HEALTH'], ...rows]);
      return 0;
    }
    case 'env':
      if (names.length > 0) throw new ConfigError('env takes no service names');
      console.log(formatEnv(serviceEnv()));
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new ConfigError(`unknown command "${command}"\n${USAGE}`);
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function printTable(rows: string[][]): void {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  for (const row of rows) console.log(row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0))).join('  '));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Our own errors carry a complete message; anything else gets its stack.
    const known = err instanceof ConfigError || err instanceof ServicesFailedError;
    console.error(known ? `error: ${err.message}` : err);
    process.exitCode = 1;
  },
);

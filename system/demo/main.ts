/**
 * `npm start`: the reference system in-process on the embedded default, a built-in workload
 * through the client SDK, the invariant checker over the recorded history, a summary, an exit code.
 *
 *   npm start -- [--users 200] [--seed 1] [--duration-s 6] [--rate 300] [--encrypted-share 0.1] [--json FILE] [--serve] [--port N]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { checkHistory, latencySummary } from '../../checker/index.js';
import { ExitCodes, exitCodeOf, formatSummary } from '../../checker/run-summary.js';
import { startServerThread } from './server-thread.js';
import { buildDemoSummary } from './summary.js';
import { defaultDemoOptions, runDemoWorkload } from './workload.js';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(ExitCodes.COULD_NOT_RUN);
}

function positive(name: string, raw: string, min = 1): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) fail(`--${name} needs a number >= ${min}, got "${raw}"`);
  return value;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      users: { type: 'string', default: String(defaultDemoOptions.users) },
      seed: { type: 'string', default: String(defaultDemoOptions.seed) },
      'duration-s': { type: 'string', default: String(defaultDemoOptions.durationMs / 1000) },
      rate: { type: 'string', default: String(defaultDemoOptions.ratePerSecond) },
      'encrypted-share': { type: 'string', default: String(defaultDemoOptions.encryptedShare) },
      json: { type: 'string' },
      serve: { type: 'boolean', default: false },
      port: { type: 'string', default: '0' },
    },
  }));
} catch (error) {
  fail(`${(error as Error).message}\nusage: npm start -- [--users N] [--seed N] [--duration-s S] [--rate N] [--encrypted-share F] [--json FILE] [--serve] [--port N]`);
}

const options = {
  ...defaultDemoOptions,
  users: positive('users', values.users, 3),
  seed: positive('seed', values.seed, 0),
  durationMs: positive('duration-s', values['duration-s']) * 1000,
  ratePerSecond: positive('rate', values.rate),
  encryptedShare: positive('encrypted-share', values['encrypted-share'], 0),
  log: (line: string) => process.stderr.write(`· ${line}\n`),
};

const startedMs = performance.now();
let server;
try {
  server = await startServerThread({ port: positive('port', values.port, 0) });
} catch (error) {
  fail(`could not start the embedded server: ${(error as Error).message}`);
}
options.log(`embedded system on ${server.wsUrl}`);
const result = await runDemoWorkload(server, options);
options.log(`checking ${result.history.events.length} history events`);
const check = checkHistory(result.history.events);
const summary = buildDemoSummary({
  options,
  result,
  check,
  latency: latencySummary(result.history.events),
  pushes: (await server.stats()).pushesRecorded,
  wallSeconds: (performance.now() - startedMs) / 1000,
});
process.stdout.write(`${formatSummary(summary)}\n`);
if (values.json) {
  mkdirSync(dirname(values.json), { recursive: true });
  writeFileSync(values.json, `${JSON.stringify(summary, null, 2)}\n`);
}

if (values.serve) {
  process.stdout.write(`\nserver stays up for your own clients: ${server.wsUrl} (tokens: POST ${server.httpUrl}/dev/token); Ctrl-C stops it\n`);
  const running = server;
  process.on('SIGINT', () => void running.stop().then(() => process.exit(exitCodeOf(summary))));
} else {
  await server.stop();
  process.exit(exitCodeOf(summary));
}

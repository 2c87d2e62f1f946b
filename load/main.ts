/**
 * `npm run load`: the live load driver.
 *
 *   npm run load -- scenarios/<file>.yaml [--target ws://… …] [--seed N] [--duration-s S] [--slo NAME=VALUE …]
 *                   [--json FILE] [--junit FILE] [--html FILE] [--history FILE]
 *                   [--shard i/n --run-id ID] [--metrics-port N] [--prometheus URL [--prometheus-selector 'job="chat"']]
 *                   [--out prometheus-remote-write=URL]
 *                   [--token-secret S | env CHAT_TOKEN_SECRET] [--faults refuse|skip] [--quiet]
 *                   [--serve [--port N]] [--help]
 *   npm start -- [the same options]       (= npm run load -- scenarios/demo.yaml …)
 *
 * Without --target it starts the reference system in-process (embedded world); with --serve that
 * system stays up after the run, for clients of your own, until Ctrl-C. The population comes
 * from the scenario's seed, or --seed, as in `npm run sim`: the same scenario and seed give the same
 * users, devices, contacts and groups (scenarios/plan). Exit codes: 0 all invariants and SLOs hold,
 * 1 an invariant was violated, 2 an SLO was missed, 3 the run could not be carried out (bad
 * scenario or option, target unreachable), 130/143 interrupted by SIGINT/SIGTERM
 * (the traffic ends, the run settles and is checked, every output is written, marked interrupted;
 * a second signal exits at once). Exit 3 still writes the requested --json/--junit/--html with the reason.
 */
import { parseArgs } from 'node:util';
import { startEmbeddedTarget, type EmbeddedTarget } from './embedded-target.js';
import { ExitCodes, exitCodeOf, formatSummary } from '../checker/run-summary.js';
import { codeOfError, runNameOfFile, writeCouldNotRunOutputs } from '../cli/could-not-run.js';
import { watchInterrupts } from '../cli/interrupts.js';
import { meanDevicesPerUser, readScenario, ScenarioError } from '../scenarios/format/index.js';
import { TimeSeriesRecorder } from '../reports/index.js';
import { loadReportCharts } from './report-charts.js';
import { LoadErrorCodes } from './error-codes.js';
import { writeHistoryFile } from './history-file.js';
import { writeOutputs } from './outputs.js';
import { progressPrinter } from './progress.js';
import { runLoad } from './run-load.js';
import { formatEncryption } from './summary.js';
import { parseShard, shardLabel, ShardSpecError } from './shard.js';
import { SloSpecError, parseSloOverride } from './slo-gate.js';
import { OutSpecError, parseOutSpecs } from './out-spec.js';
import { raiseOpenFileLimitHint } from './file-limit.js';
import { ToolError } from '../cli/tool-error.js';

const USAGE =
  'usage: npm run load -- <scenario.yaml> [--target ws://…]… [--seed N] [--duration-s S] [--slo NAME=VALUE]… [--json FILE] [--junit FILE] ' +
  '[--html FILE] [--history FILE] [--shard i/n --run-id ID] [--metrics-port N] [--prometheus URL] [--prometheus-selector SEL] ' +
  '[--out prometheus-remote-write=URL] ' +
  '[--token-secret S] [--faults refuse|skip] [--quiet] [--serve [--port N]] [--help]\n' +
  '       npm start -- [the same options, without the scenario]: the load driver on scenarios/demo.yaml against the embedded system\n' +
  '  --serve       keep the embedded system up after the run for clients of your own (prints its URL; Ctrl-C stops it)\n' +
  '  --port N      the embedded system\'s port with --serve (default: a free one)';

function parseCli() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        target: { type: 'string', multiple: true, default: [] },
        seed: { type: 'string' },
        'duration-s': { type: 'string' },
        slo: { type: 'string', multiple: true, default: [] },
        json: { type: 'string' },
        junit: { type: 'string' },
        html: { type: 'string' },
        history: { type: 'string' },
        shard: { type: 'string' },
        'run-id': { type: 'string' },
        'metrics-port': { type: 'string' },
        prometheus: { type: 'string' },
        'prometheus-selector': { type: 'string' },
        out: { type: 'string', multiple: true, default: [] },
        'token-secret': { type: 'string' },
        faults: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        serve: { type: 'boolean', default: false },
        port: { type: 'string' },
        help: { type: 'boolean', default: false },
        // Test-only: lose the Nth live delivery in the recorded history (proves the gate catches it).
        'test-drop-delivery': { type: 'string' },
      },
    });
  } catch (error) {
    // Without readable options there are no output paths to write to.
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(ExitCodes.COULD_NOT_RUN);
  }
}

const { values, positionals } = parseCli();
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(ExitCodes.OK);
}
const outputs = { json: values.json, junit: values.junit, html: values.html };
let scenarioName = runNameOfFile(positionals[0]);

function badOption(message: string): never {
  throw new ToolError(LoadErrorCodes.BAD_OPTION, message);
}

function number(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) badOption(`--${name} needs a number >= ${min}, got "${raw}"`);
  return value;
}

const interrupts = watchInterrupts({ doing: 'ending the traffic, settling and checking what ran' });
let exitCode: number = ExitCodes.COULD_NOT_RUN;
let served: EmbeddedTarget | undefined;
try {
  if (positionals.length !== 1) badOption(`give exactly one scenario file\n${USAGE}`);
  const read = await readScenario(positionals[0]!);
  scenarioName = read.name;
  const seed = number('seed', values.seed, 0);
  if (seed !== undefined && !Number.isSafeInteger(seed)) badOption(`--seed needs a non-negative integer, got "${values.seed}"`);
  // --seed replaces the scenario's seed everywhere (plan, traffic, summary), as in `npm run sim`.
  const scenario = seed !== undefined ? { ...read, seed } : read;
  const shard = values.shard ? parseShard(values.shard) : undefined;
  const slo = values.slo.map(parseSloOverride); // validated before anything starts
  const remoteWrite = parseOutSpecs(values.out).find((out) => out.kind === 'prometheus-remote-write');
  if (values.faults !== undefined && values.faults !== 'refuse' && values.faults !== 'skip') badOption(`--faults takes refuse or skip, not "${values.faults}"`);
  for (const t of values.target) if (!/^wss?:\/\/./.test(t)) badOption(`--target takes a ws:// or wss:// URL, not "${t}"`);
  const durationS = number('duration-s', values['duration-s'], 0.1);
  const metricsPort = number('metrics-port', values['metrics-port'], 0);
  const dropNth = number('test-drop-delivery', values['test-drop-delivery'], 1);
  const tokenSecret = values['token-secret'] ?? process.env.CHAT_TOKEN_SECRET;
  const port = number('port', values.port, 0);
  if (values.serve && values.target.length > 0) badOption('--serve keeps the embedded system up: leave out --target');
  if (port !== undefined && !values.serve) badOption('--port goes with --serve');
  const hint = raiseOpenFileLimitHint(Math.ceil(scenario.population.users * meanDevicesPerUser(scenario)));
  if (hint) process.stderr.write(`· ${hint}\n`);

  const quiet = values.quiet;
  const progress = progressPrinter(process.stderr);
  const series = values.html ? new TimeSeriesRecorder() : undefined;
  // Started here, not by the run, so that it outlives the run.
  if (values.serve) served = await startEmbeddedTarget(port !== undefined ? { port } : {});
  const result = await runLoad(scenario, {
    ...(values.target.length > 0 ? { targets: values.target } : {}),
    ...(durationS !== undefined ? { durationS } : {}),
    ...(shard ? { shard } : {}),
    ...(values['run-id'] ? { runId: values['run-id'] } : {}),
    ...(metricsPort !== undefined ? { metricsPort } : {}),
    ...(remoteWrite ? { remoteWrite: { url: remoteWrite.url } } : {}),
    ...(values.prometheus ? { prometheusUrl: values.prometheus } : {}),
    ...(values['prometheus-selector'] ? { prometheusSelector: values['prometheus-selector'] } : {}),
    ...(tokenSecret ? { tokenSecret } : {}),
    ...(values.faults ? { faults: values.faults as 'refuse' | 'skip' } : {}),
    ...(dropNth !== undefined ? { plantDroppedDelivery: dropNth } : {}),
    ...(series ? { timeSeries: series } : {}),
    ...(served ? { embedded: served } : {}),
    signal: interrupts.signal,
    slo: Object.fromEntries(slo.map((s) => [s.name, String(s.limit)])),
    log: (line) => {
      progress.end();
      process.stderr.write(`· ${line}\n`);
    },
    onPhase: (phase) => interrupts.setPhase(phase),
    ...(quiet ? {} : { onProgress: (p) => progress.update(p) }),
  });
  progress.end();
  const interruption = interrupts.interruption();
  if (interruption) result.summary.interrupted = interruption;
  process.stdout.write(`${formatSummary(result.summary)}\n`);
  const encryption = formatEncryption(result.summary);
  if (encryption) process.stdout.write(`${encryption}\n`);
  // Charts end when the settle phase did: deliveries land until then, after the traffic has ended.
  const chartEndS = (result.settledAtMs - result.trafficStartedAtMs) / 1000;
  await writeOutputs(result.summary, outputs, series ? { charts: loadReportCharts(series, result.summary, chartEndS) } : {});
  if (values.history) {
    await writeHistoryFile(
      values.history,
      { scenario: scenario.name, run_id: String(result.summary.run_id), shard: shardLabel(shard ?? { index: 0, count: 1 }), seed: scenario.seed, events: result.history.length },
      result.history,
    );
  }
  exitCode = exitCodeOf(result.summary);
} catch (error) {
  const known = error instanceof ScenarioError || error instanceof ToolError || error instanceof SloSpecError || error instanceof ShardSpecError || error instanceof OutSpecError;
  const message = known ? (error as Error).message : ((error as Error).stack ?? String(error));
  process.stderr.write(`could not run: ${message}\n`);
  await writeCouldNotRunOutputs(outputs, { kind: 'load', scenario: scenarioName, code: codeOfError(error), message }, `Load run · ${scenarioName}`).catch((writeError: unknown) => {
    process.stderr.write(`could not write the outputs either: ${(writeError as Error).message}\n`);
  });
  exitCode = ExitCodes.COULD_NOT_RUN;
}
if (served && exitCode !== ExitCodes.COULD_NOT_RUN && !interrupts.interruption()) await serveUntilSignal(served);
await served?.stop();
process.exit(exitCode);

/** `--serve`: the embedded system stays up for clients of your own until SIGINT or SIGTERM. */
async function serveUntilSignal(target: EmbeddedTarget): Promise<void> {
  interrupts.dispose();
  process.stdout.write(
    `\nthe embedded system stays up for your own clients: ${target.wsUrl}\n` +
      `tokens: curl -s -XPOST ${target.httpUrl}/dev/token -d '{"userId":"alice","deviceId":"phone"}'\n` +
      'Ctrl-C stops it\n',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

/**
 * `npm run load`: the live load driver; `npm start` is `npm run load -- scenarios/demo.yaml`.
 *
 * Without --target it starts the reference system in-process (embedded world); with --serve that
 * system stays up after the run, for clients of your own, until Ctrl-C. The population comes
 * from the scenario's seed, or --seed, as in `npm run sim`: the same scenario and seed give the same
 * users, devices, contacts and groups (scenarios/plan). On SIGINT/SIGTERM the traffic ends, the run
 * settles and is checked, and every output is written, marked interrupted; a second signal exits
 * at once. Exit 3 still writes the requested --json/--junit/--html with the reason. Options and
 * exit codes: `npm run load -- --help`.
 */
import { startEmbeddedTarget, type EmbeddedTarget } from './embedded-target.js';
import { exitCodeOf, formatSummary } from '../checker/run-summary.js';
import { outputsOnFailure } from '../cli/could-not-run.js';
import { defineCommand, judgedRunExitCodes, type ParsedCommandLine } from '../cli/command-spec.js';
import { watchInterrupts, type InterruptWatch } from '../cli/interrupts.js';
import { runCommand } from '../cli/run-command.js';
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

const command = defineCommand({
  name: 'load',
  purpose: 'real WebSocket clients put open-model load on the system, the checker judges their histories, the SLO gate the latencies',
  positionals: [{ name: 'scenario.yaml', description: 'the scenario file (scenarios/README.md)' }],
  options: {
    target: {
      type: 'string',
      multiple: true,
      placeholder: 'ws://…',
      description: 'gateway URLs to load (default: start the embedded system in-process)',
    },
    seed: {
      type: 'number',
      integer: true,
      min: 0,
      description: "replaces the scenario's seed everywhere (plan, traffic, summary), as in npm run sim",
    },
    'duration-s': { type: 'number', min: 0.1, placeholder: 'S', description: "the traffic phase's length (default the scenario's)" },
    slo: { type: 'string', multiple: true, placeholder: 'NAME=VALUE', description: 'override an objective' },
    json: { type: 'string', placeholder: 'FILE', description: 'write the summary as JSON (docs/summaries.md)' },
    junit: { type: 'string', placeholder: 'FILE', description: 'write a JUnit report (one case per objective and invariant)' },
    html: { type: 'string', placeholder: 'FILE', description: 'write a self-contained HTML report with charts' },
    history: { type: 'string', placeholder: 'FILE', description: 'write the recorded history (for npm run load:merge)' },
    shard: { type: 'string', placeholder: 'i/n', description: 'run the users whose index is i mod n (with --run-id)' },
    'run-id': { type: 'string', placeholder: 'ID', description: 'the id every shard of one run shares' },
    'metrics-port': { type: 'number', integer: true, min: 0, max: 65_535, description: "serve the driver's own /metrics on this port" },
    prometheus: { type: 'string', placeholder: 'URL', description: "read the system's server-side figures from this Prometheus" },
    'prometheus-selector': { type: 'string', placeholder: 'SEL', description: 'label selector of the gateways there (e.g. job="chat")' },
    out: { type: 'string', multiple: true, placeholder: 'prometheus-remote-write=URL', description: "push the driver's metrics there" },
    'token-secret': { type: 'string', placeholder: 'S', description: "the target's token secret (default CHAT_TOKEN_SECRET)" },
    faults: {
      type: 'string',
      choices: ['refuse', 'skip'],
      description: 'a scenario with faults against a target that cannot inject them: refuse (default) or run without them',
    },
    quiet: { type: 'boolean', description: 'no progress line' },
    serve: {
      type: 'boolean',
      description: 'keep the embedded system up after the run for clients of your own (prints its URL; Ctrl-C stops it)',
    },
    port: {
      type: 'number',
      integer: true,
      min: 0,
      max: 65_535,
      description: "the embedded system's port with --serve (default: a free one)",
    },
    // Test-only: lose the Nth live delivery in the recorded history (proves the gate catches it).
    'test-drop-delivery': {
      type: 'number',
      integer: true,
      min: 1,
      description: 'test only: lose the Nth live delivery in the recorded history',
    },
  },
  exitCodes: judgedRunExitCodes({
    couldNotRun: 'could not run (bad scenario or option, target unreachable); --json/--junit/--html still written, saying why',
    interrupted: 'the traffic ended, the run settled and was checked, outputs marked interrupted',
  }),
  badArgumentsCode: LoadErrorCodes.BAD_OPTION,
  notes: ['npm start -- [the same options] runs this on scenarios/demo.yaml against the embedded system.'],
});

// A run that could not be carried out still writes the outputs it was asked for, saying why.
const failure = outputsOnFailure('load', (name) => `Load run · ${name}`);

function badOption(message: string): never {
  throw new ToolError(LoadErrorCodes.BAD_OPTION, message);
}

await runCommand(command, main, {
  knownErrors: [ScenarioError, SloSpecError, ShardSpecError, OutSpecError],
  onFailure: failure.onFailure,
});

async function main({ values, positionals: [scenarioFile] }: ParsedCommandLine<typeof command.options>): Promise<number> {
  const interrupts = watchInterrupts({ doing: 'ending the traffic, settling and checking what ran' });
  let served: EmbeddedTarget | undefined;
  let exitCode: number;
  try {
    const read = await readScenario(scenarioFile!);
    failure.named(read.name);
    const seed = values.seed;
    // --seed replaces the scenario's seed everywhere (plan, traffic, summary), as in `npm run sim`.
    const scenario = seed !== undefined ? { ...read, seed } : read;
    const shard = values.shard ? parseShard(values.shard) : undefined;
    const slo = values.slo.map(parseSloOverride); // validated before anything starts
    const remoteWrite = parseOutSpecs(values.out).find((out) => out.kind === 'prometheus-remote-write');
    for (const t of values.target) if (!/^wss?:\/\/./.test(t)) badOption(`--target takes a ws:// or wss:// URL, not "${t}"`);
    const durationS = values['duration-s'];
    const metricsPort = values['metrics-port'];
    const dropNth = values['test-drop-delivery'];
    const tokenSecret = values['token-secret'] ?? process.env.CHAT_TOKEN_SECRET;
    const port = values.port;
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
      ...(values.faults ? { faults: values.faults } : {}),
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
    await writeOutputs(
      result.summary,
      { json: values.json, junit: values.junit, html: values.html },
      series ? { charts: loadReportCharts(series, result.summary, chartEndS) } : {},
    );
    if (values.history) {
      await writeHistoryFile(
        values.history,
        {
          scenario: scenario.name,
          run_id: String(result.summary.run_id),
          shard: shardLabel(shard ?? { index: 0, count: 1 }),
          seed: scenario.seed,
          events: result.history.length,
        },
        result.history,
      );
    }
    exitCode = exitCodeOf(result.summary);
  } catch (error) {
    await served?.stop();
    interrupts.dispose();
    throw error;
  }
  if (served && !interrupts.interruption()) await serveUntilSignal(served, interrupts);
  await served?.stop();
  return exitCode;
}

/** `--serve`: the embedded system stays up for clients of your own until SIGINT or SIGTERM. */
async function serveUntilSignal(target: EmbeddedTarget, interrupts: InterruptWatch): Promise<void> {
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

/**
 * `npm run bench:http`: the gateway's HTTP side under autocannon, next to a bare Node HTTP server
 * in the same run on the same machine. Steps: token issue (`POST /dev/token`), media download and
 * upload through the embedded blob server's signed URLs, the same through S3 when the S3_*
 * variables are set (URLs signed by the S3 adapter, requests straight to the S3 server, as clients
 * make them), and `/metrics` while a 1:1 WebSocket load runs on the gateway. Servers run in their
 * own processes; autocannon (and the chat load) run in this one.
 * Options: `npm run bench:http -- --help`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { startChildServer, type ChildServer } from '../../../system/cluster/child-server.js';
import { runPairLoad } from '../pair-load.js';
import { processCpuMs } from '../process-cpu.js';
import { runStep, type StepFigures, type StepLoad, type StepTarget } from './autocannon-step.js';
import { gatewaySteps, s3Steps, type HttpStep } from './http-steps.js';
import { ExitCodes } from '../../../checker/run-summary.js';
import { defineCommand, EXIT_COULD_NOT_RUN, type OptionValues } from '../../../cli/command-spec.js';
import { runCommand } from '../../../cli/run-command.js';
import { ToolError } from '../../../cli/tool-error.js';

/** Defaults keep a whole run near half a minute; raise --duration-s for figures worth recording. */
const DEFAULTS = { durationS: 3, connections: 10, mediaBytes: 16 * 1024, chatLoadRate: 200, chatLoadPairs: 10 };
/** The chat load runs a little longer than the step it accompanies, so it covers all of it. */
const CHAT_LOAD_MARGIN_MS = 500;
const BAD_ARGUMENTS = 'BENCH_HTTP_USAGE';

const command = defineCommand({
  name: 'bench:http',
  purpose:
    "the gateway's HTTP side under autocannon (token issue, media through signed URLs, S3, /metrics under chat load), next to a bare Node HTTP server in the same run",
  options: {
    'duration-s': { type: 'number', above: 0, default: DEFAULTS.durationS, placeholder: 'S', description: 'seconds per step and server' },
    connections: { type: 'number', integer: true, min: 1, default: DEFAULTS.connections, description: 'autocannon connections' },
    'media-bytes': {
      type: 'number',
      integer: true,
      min: 1,
      default: DEFAULTS.mediaBytes,
      description: 'size of the media downloaded and uploaded',
    },
    'chat-load-rate': {
      type: 'number',
      min: 0,
      default: DEFAULTS.chatLoadRate,
      description: '1:1 msgs/s on the gateway during the /metrics step',
    },
    steps: { type: 'string', placeholder: 'a,b,…', description: 'only these steps (token, metrics, …)' },
    'skip-s3': { type: 'boolean', description: 'leave out the S3 steps even when S3_* is set' },
    json: { type: 'string', placeholder: 'FILE', description: 'write the figures as JSON' },
  },
  exitCodes: [{ code: ExitCodes.OK, meaning: 'measured (failed requests are reported as a warning)' }, EXIT_COULD_NOT_RUN],
  badArgumentsCode: BAD_ARGUMENTS,
});

interface StepRow {
  step: string;
  server: HttpStep['server'];
  method: HttpStep['method'];
  responseBytes: number;
  chatLoadRate: number;
  system: StepFigures & { serverCpuUsPerRequest?: number };
  bare: StepFigures & { serverCpuUsPerRequest?: number };
}

function parseOptions(values: OptionValues<typeof command.options>) {
  return {
    load: { durationS: values['duration-s'], connections: values.connections },
    mediaBytes: values['media-bytes'],
    chatLoadRate: values['chat-load-rate'],
    only: values.steps?.split(',').map((s) => s.trim()),
    s3: !values['skip-s3'] && Boolean(process.env.S3_ENDPOINT),
    json: values.json,
  };
}

/** The response size of one request, which the bare server is asked to match; also proves the request works. */
async function responseBytesOf(step: HttpStep): Promise<number> {
  const response = await fetch(step.url, {
    method: step.method,
    headers: step.headers,
    ...(step.body ? { body: new Uint8Array(step.body) } : {}),
  });
  const bytes = (await response.arrayBuffer()).byteLength;
  if (!response.ok) throw new Error(`${step.name}: ${step.method} answered HTTP ${response.status} before the run`);
  return bytes;
}

/** Runs a step with the server's CPU time per request when its pid is known (S3 is not ours). */
async function measure(step: HttpStep, target: StepTarget, load: StepLoad, pid: number | undefined): Promise<StepRow['system']> {
  const cpuBeforeMs = processCpuMs(pid);
  const figures = await runStep(step, target, load);
  const cpuAfterMs = processCpuMs(pid);
  if (cpuBeforeMs === undefined || cpuAfterMs === undefined || figures.requests === 0) return figures;
  return { ...figures, serverCpuUsPerRequest: ((cpuAfterMs - cpuBeforeMs) * 1000) / figures.requests };
}

async function measureUnderChatLoad(step: HttpStep, gateway: ChildServer, load: StepLoad, rate: number): Promise<StepRow['system']> {
  let figures: Promise<StepRow['system']> | undefined;
  await runPairLoad({
    target: 'system',
    wsUrl: gateway.wsUrl,
    httpUrl: gateway.httpUrl!,
    pairs: DEFAULTS.chatLoadPairs,
    ratePerSecond: rate,
    durationMs: load.durationS * 1000 + CHAT_LOAD_MARGIN_MS,
    warmupMs: 500,
    settleMs: 500,
    // No CPU per request here: the gateway's CPU in this window is mostly the chat load's.
    onMeasureStart: () => (figures = measure(step, { url: step.url }, load, undefined)),
  });
  if (!figures) throw new Error(`${step.name}: the chat load never started`);
  return figures;
}

function formatTable(rows: StepRow[], options: ReturnType<typeof parseOptions>): string {
  const n = (value: number | undefined, width: number, digits = 1) => (value === undefined ? '-' : value.toFixed(digits)).padStart(width);
  const side = (f: StepRow['system']) =>
    `${n(f.requestsPerSecond, 8, 0)} ${n(f.latencyMs.p50, 6)} ${n(f.latencyMs.p90, 6)} ${n(f.latencyMs.p99, 6)} ${n(f.serverCpuUsPerRequest, 7, 0)} ${String(f.failures).padStart(5)}`;
  const lines = [
    `HTTP endpoints under autocannon: ${options.load.connections} connections, ${options.load.durationS} s per step and server, ` +
      `${options.mediaBytes}-byte media; servers in their own processes, load from this one`,
    `${'step'.padEnd(15)} ${'bytes'.padStart(7)} | ${'system'.padEnd(8)} ${'p50 ms'.padStart(6)} ${'p90 ms'.padStart(6)} ${'p99 ms'.padStart(6)} ${'cpu µs'.padStart(7)} ${'fail'.padStart(5)} | ` +
      `${'bare'.padEnd(8)} ${'p50 ms'.padStart(6)} ${'p90 ms'.padStart(6)} ${'p99 ms'.padStart(6)} ${'cpu µs'.padStart(7)} ${'fail'.padStart(5)} | req/s ratio`,
  ];
  for (const row of rows) {
    lines.push(
      `${row.step.padEnd(15)} ${String(row.responseBytes).padStart(7)} | ${side(row.system)} | ${side(row.bare)} | ${n(row.system.requestsPerSecond / row.bare.requestsPerSecond, 11, 2)}`,
    );
  }
  lines.push(
    "system/bare columns are requests/s; cpu µs is the answering server process's CPU per request (none for S3: not our process).",
    's3-* steps: "system" is the S3 server at S3_ENDPOINT (the gateway only signs the URLs).',
  );
  if (rows.some((r) => r.chatLoadRate > 0))
    lines.push(
      `metrics: measured while ${rows.find((r) => r.chatLoadRate > 0)!.chatLoadRate} msgs/s of 1:1 WebSocket traffic run on the gateway (${DEFAULTS.chatLoadPairs} pairs); the bare server has no such load.`,
    );
  return `${lines.join('\n')}\n`;
}

async function main(options: ReturnType<typeof parseOptions>): Promise<void> {
  const gateway = await startChildServer(new URL('../../../system/main.ts', import.meta.url).pathname, ['--port', '0', '--quiet']);
  const bare = await startChildServer(new URL('./bare-http-server.ts', import.meta.url).pathname, []);
  try {
    let steps = await gatewaySteps({ httpUrl: gateway.httpUrl!, wsUrl: gateway.wsUrl }, options.mediaBytes, options.load);
    if (options.s3)
      steps.push(...(await s3Steps(options.mediaBytes, options.load, (name) => !options.only || options.only.includes(name))));
    if (options.only) {
      const unknown = options.only.filter((name) => !steps.some((s) => s.name === name));
      if (unknown.length > 0)
        throw new ToolError(BAD_ARGUMENTS, `--steps: unknown ${unknown.join(', ')}; known: ${steps.map((s) => s.name).join(', ')}`);
      steps = steps.filter((s) => options.only!.includes(s.name));
    }
    const rows: StepRow[] = [];
    for (const step of steps) {
      process.stderr.write(`bench:http ${step.name} …\n`);
      const responseBytes = await responseBytesOf(step);
      const pid = step.server === 'gateway' ? gateway.process.pid : undefined;
      const chatLoadRate = step.underChatLoad ? options.chatLoadRate : 0;
      const system =
        chatLoadRate > 0
          ? await measureUnderChatLoad(step, gateway, options.load, chatLoadRate)
          : await measure(step, { url: step.url, ...(step.urlPerRequest ? { urlPerRequest: step.urlPerRequest } : {}) }, options.load, pid);
      // An upload step's bare run makes as many requests, each built for itself, as the system's.
      const bareUrl = `${bare.httpUrl}/bytes/${responseBytes}`;
      const bareResult = await measure(
        step,
        { url: bareUrl, ...(step.urlPerRequest ? { urlPerRequest: step.urlPerRequest.map(() => bareUrl) } : {}) },
        options.load,
        bare.process.pid,
      );
      if (step.urlPerRequest && system.durationS < options.load.durationS) {
        process.stderr.write(
          `bench:http ${step.name}: its ${step.urlPerRequest.length} upload URLs were used up after ${system.durationS} of ${options.load.durationS} s\n`,
        );
      }
      rows.push({ step: step.name, server: step.server, method: step.method, responseBytes, chatLoadRate, system, bare: bareResult });
    }
    process.stdout.write(formatTable(rows, options));
    const unclean = rows.filter((row) => row.system.failures > 0 || row.bare.failures > 0).map((row) => row.step);
    // Reported, not fatal: failed requests make a benchmark's figures suspect, not the code wrong.
    if (unclean.length > 0)
      process.stdout.write(
        `warning: requests failed (non-2xx, connection errors or timeouts) in ${unclean.join(', ')}: those figures are not clean\n`,
      );
    if (options.json) mkdirSync(dirname(options.json), { recursive: true });
    if (options.json)
      writeFileSync(
        options.json,
        JSON.stringify({ kind: 'bench-http', load: options.load, mediaBytes: options.mediaBytes, rows }, null, 2),
      );
  } finally {
    await Promise.all([gateway.stop(), bare.stop()]);
  }
}

await runCommand(command, async ({ values }) => {
  await main(parseOptions(values));
  return ExitCodes.OK;
});

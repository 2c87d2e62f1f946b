/**
 * A production-world gateway with per-stage timing, for `npm run bench:cluster -- --stage-timing
 * DIR`: the same composition as `system/main.ts --world production`, plus
 *
 * - every port call of the core timed (`inbox.enqueue`, `registry.lookup`, `router.deliver`, …),
 * - every Cassandra statement timed by its shape (`cql INSERT messages IF`, `cql SELECT inbox`, …),
 * - the two request handlers the load exercises (`core.chat.send`, `core.receipts.delivered`),
 *   whose time includes waiting in the conversation's serializer,
 * - event-loop delay and the CPU time the process used (in all, and since it was ready),
 * - every Cassandra request and Redis command counted, by the outermost timed call that issued it
 *   (request-counts.ts), for the bench's per-message table.
 *
 * With `CHAT_CPU_PROFILE_DIR` set it also records a CPU profile (`<node id>.cpuprofile`, open it in
 * Chrome DevTools) from start to stop.
 *
 * On SIGTERM it writes the figures as JSON to `$CHAT_STAGE_TIMING_DIR/<node id>.json` and exits.
 * Arguments as `system/main.ts` (the cluster launcher passes them).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import driver from 'cassandra-driver';
import { Pipeline, Redis, type Command } from 'ioredis';
import { parseLimitOverrides } from '../../system/core/limits.js';
import { PromMetrics } from '../../system/metrics/prom-metrics.js';
import type { CoreDeps } from '../../system/services/deps.js';
import { startServer } from '../../system/server.js';
import { productionConfigFromEnv } from '../../system/worlds/production-config.js';
import { buildProductionWorld } from '../../system/worlds/production-world.js';
import { countsSince, NO_SCOPE, RequestCounter, statementShape } from './request-counts.js';
import { StageTimer } from './stage-timer.js';

const { values } = parseArgs({
  options: {
    world: { type: 'string', default: 'production' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'node-id': { type: 'string', default: 'node-1' },
    'dev-tokens': { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    limit: { type: 'string', multiple: true, default: [] },
  },
});
const outDir = process.env.CHAT_STAGE_TIMING_DIR;
if (!outDir) throw new Error('CHAT_STAGE_TIMING_DIR must name the folder for the figures');
const nodeId = values['node-id'];
const timer = new StageTimer();
const requests = new RequestCounter();
const currentScope = () => timer.outerStage() ?? NO_SCOPE;

// Statement-level timing and counting: wrap the driver before the world creates its client.
const clientPrototype = driver.Client.prototype as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
for (const method of ['execute', 'batch'] as const) {
  const original = clientPrototype[method]!;
  clientPrototype[method] = function (this: unknown, ...args: unknown[]) {
    const queries = method === 'batch' ? batchQueries(args[0]) : [String(args[0])];
    requests.countCql(currentScope(), queries, method === 'batch');
    const stage = method === 'batch' ? `cql BATCH ${statementShape(queries[0] ?? '')}` : `cql ${statementShape(queries[0]!)}`;
    return timer.time(stage, () => original.apply(this, args));
  };
}
countRedisCommands();

const metrics = new PromMetrics({ nodeId });
const world = await buildProductionWorld(productionConfigFromEnv(process.env, nodeId), {
  metrics,
  limits: parseLimitOverrides(values.limit),
});
const deps = world.core.deps as unknown as Record<keyof CoreDeps, object>;
for (const port of ['messages', 'conversations', 'inbox', 'receipts', 'directory', 'registry', 'router', 'presence'] as const) {
  deps[port] = timer.wrapPort(port, deps[port]);
}
const chat = world.core.chat;
const send = chat.send.bind(chat);
chat.send = (...args: Parameters<typeof send>) => timer.time('core.chat.send', () => send(...args));
const receipts = world.core.receipts;
const delivered = receipts.delivered.bind(receipts);
// Every argument passed on as given: a wrapper that dropped one once turned the no-read ack path off.
receipts.delivered = (...args: Parameters<typeof delivered>) => timer.time('core.receipts.delivered', () => delivered(...args));
const read = receipts.read.bind(receipts);
receipts.read = (...args: Parameters<typeof read>) => timer.time('core.receipts.read', () => read(...args));

const profileDir = process.env.CHAT_CPU_PROFILE_DIR;
const profiler = profileDir ? new Session() : undefined;
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const server = await startServer({
  node: world.node,
  host: values.host,
  port: Number(values.port),
  devTokens: values['dev-tokens'],
  renderMetrics: () => metrics.render(),
});
// The bench measures the services' CPU from when all gateways are ready: this is the gateway's figure for about the same span.
const cpuUsageAtReady = process.cpuUsage();
process.stdout.write(`READY ${JSON.stringify({ wsUrl: server.wsUrl, httpUrl: server.httpUrl, nodeId, pid: process.pid })}\n`);

/** SIGUSR2 marks the start of the bench's steady window (its load's warm-up is over). */
let steadyMark: { requests: ReturnType<RequestCounter['snapshot']>; cpu: NodeJS.CpuUsage; sends: number } | undefined;
process.on('SIGUSR2', () => {
  steadyMark = { requests: requests.snapshot(), cpu: process.cpuUsage(), sends: timer.figures()['core.chat.send']?.count ?? 0 };
});

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  const figures = {
    nodeId,
    cpuMs: cpuMs(process.cpuUsage()),
    cpuMsSinceReady: cpuMs(process.cpuUsage(cpuUsageAtReady)),
    eventLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
    stages: timer.encode(),
    requests: requests.toJSON(),
    ...(steadyMark && {
      steady: {
        requests: countsSince(requests.toJSON(), steadyMark.requests),
        cpuMs: cpuMs(process.cpuUsage(steadyMark.cpu)),
        sends: (timer.figures()['core.chat.send']?.count ?? 0) - steadyMark.sends,
      },
    }),
  };
  writeFileSync(path.join(outDir, `${nodeId}.json`), JSON.stringify(figures, null, 2));
  void (profiler && profileDir ? profiler.post('Profiler.stop') : Promise.resolve(undefined))
    .then((result) => {
      if (result && profileDir) writeFileSync(path.join(profileDir, `${nodeId}.cpuprofile`), JSON.stringify(result.profile));
    })
    .then(() => server.close())
    .then(() => world.close())
    .then(() => process.exit(0));
});

function cpuMs(usage: NodeJS.CpuUsage): number {
  return Math.round((usage.user + usage.system) / 1000);
}

/** The query texts of a `client.batch` call (statements are `{ query, params }` objects or plain strings). */
function batchQueries(statements: unknown): string[] {
  return (statements as Array<string | { query: string }>).map((statement) =>
    typeof statement === 'string' ? statement : statement.query,
  );
}

/**
 * Counts every command ioredis writes to Redis, by name and scope. All of them pass through
 * `Redis.prototype.sendCommand`: direct calls, pipelines and auto-pipelines (their exec hands
 * each queued command to it), MULTI/EXEC, connection handshakes and subscriptions. A command can
 * pass through it more than once (queued while disconnected, then flushed), so each is counted on
 * its first pass only. Its scope is taken where it was issued: an (auto-)pipelined command is
 * sent later, from whichever call's context flushes the pipeline, but queued into the pipeline
 * (`Pipeline.prototype.sendCommand`) synchronously by its caller.
 */
function countRedisCommands(): void {
  const scopeOf = new WeakMap<Command, string>();
  const queue = Pipeline.prototype.sendCommand;
  Pipeline.prototype.sendCommand = function (this: Pipeline, command: Command) {
    scopeOf.set(command, currentScope());
    return queue.call(this, command);
  };
  const counted = new WeakSet<Command>();
  const send = Redis.prototype.sendCommand;
  Redis.prototype.sendCommand = function (this: Redis, command: Command, ...rest: unknown[]) {
    if (!counted.has(command)) {
      counted.add(command);
      requests.countRedis(scopeOf.get(command) ?? currentScope(), command.name.toUpperCase());
    }
    return (send as (this: Redis, ...args: unknown[]) => unknown).call(this, command, ...rest);
  };
}

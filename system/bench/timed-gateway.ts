/**
 * A production-world gateway with per-stage timing, for `npm run bench:cluster -- --stage-timing
 * DIR`: the same composition as `system/main.ts --world production`, plus
 *
 * - every port call of the core timed (`inbox.enqueue`, `registry.lookup`, `router.deliver`, …),
 * - every Cassandra statement timed by its shape (`cql INSERT messages IF`, `cql SELECT inbox`, …),
 * - the two request handlers the load exercises (`core.chat.send`, `core.receipts.delivered`),
 *   whose time includes waiting in the conversation's serializer,
 * - event-loop delay and the CPU time the process used.
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
import { parseLimitOverrides } from '../core/limits.js';
import { PromMetrics } from '../metrics/prom-metrics.js';
import type { CoreDeps } from '../services/deps.js';
import { startServer } from '../server.js';
import { productionConfigFromEnv } from '../worlds/production-config.js';
import { buildProductionWorld } from '../worlds/production-world.js';
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

// Statement-level timing: wrap the driver before the world creates its client.
const clientPrototype = driver.Client.prototype as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
for (const method of ['execute', 'batch'] as const) {
  const original = clientPrototype[method]!;
  clientPrototype[method] = function (this: unknown, ...args: unknown[]) {
    const first = args[0];
    const stage = method === 'batch' ? `cql BATCH ${statementShape(String((first as Array<{ query: string }>)[0]?.query ?? ''))}` : `cql ${statementShape(String(first))}`;
    return timer.time(stage, () => original.apply(this, args));
  };
}

const metrics = new PromMetrics({ nodeId });
const world = await buildProductionWorld(productionConfigFromEnv(process.env, nodeId), { metrics, limits: parseLimitOverrides(values.limit) });
const deps = world.core.deps as unknown as Record<keyof CoreDeps, object>;
for (const port of ['messages', 'conversations', 'inbox', 'receipts', 'directory', 'registry', 'router', 'presence'] as const) {
  deps[port] = timer.wrapPort(port, deps[port]);
}
const chat = world.core.chat;
const send = chat.send.bind(chat);
chat.send = (caller, request) => timer.time('core.chat.send', () => send(caller, request));
const receipts = world.core.receipts;
const delivered = receipts.delivered.bind(receipts);
receipts.delivered = (caller, conversationId, seq) => timer.time('core.receipts.delivered', () => delivered(caller, conversationId, seq));

const profileDir = process.env.CHAT_CPU_PROFILE_DIR;
const profiler = profileDir ? new Session() : undefined;
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const server = await startServer({ node: world.node, host: values.host, port: Number(values.port), devTokens: values['dev-tokens'], renderMetrics: () => metrics.render() });
process.stdout.write(`READY ${JSON.stringify({ wsUrl: server.wsUrl, httpUrl: server.httpUrl, nodeId, pid: process.pid })}\n`);

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  const figures = {
    nodeId,
    cpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
    eventLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
    stages: timer.encode(),
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

/** `INSERT messages IF`, `SELECT inbox`, `UPDATE receipts`: verb, table, and whether it is a lightweight transaction. */
function statementShape(query: string): string {
  const verb = query.trim().split(/\s+/)[0]?.toUpperCase() ?? '?';
  const table = /(?:FROM|INTO|UPDATE)\s+(?:\w+\.)?(\w+)/i.exec(query)?.[1] ?? '?';
  const lwt = /\bIF\b/i.test(query) ? ' IF' : '';
  const shape = /ORDER BY seq DESC LIMIT 1/i.test(query) && verb === 'SELECT' && table === 'messages' ? ' (highest)' : '';
  return `${verb} ${table}${lwt}${shape}`;
}

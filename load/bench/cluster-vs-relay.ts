/**
 * Benchmark: the reference system as deployed — N gateway processes on Cassandra and Redis —
 * for 1:1 traffic and for one big group (default 256 members), next to a bare `ws` relay doing
 * the same deliveries, measured in the same run. Starts the local services when their variables
 * are not set.
 * Options: `npm run bench:cluster -- --help`.
 *
 * --stage-timing runs instrumented gateways (timed-gateway.ts) and prints where a message's time
 * goes: every port call and Cassandra statement, merged over the gateways (figures also in DIR);
 * and what one message costs: Cassandra requests, Redis commands and CPU per `core.chat.send`,
 * for the whole run and for the message path alone (also in --json as `perMessage`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureServices } from '../../infra/local/services-api.js';
import { startChildServer } from '../../system/cluster/child-server.js';
import { startCluster } from '../../system/cluster/cluster.js';
import { runGroupLoad } from './group-load.js';
import type { LoadResult } from './open-model.js';
import { runPairLoad } from './pair-load.js';
import {
  formatPerMessage,
  formatSteady,
  LEASE_SCOPE,
  MESSAGE_PATH_SCOPES,
  PER_MESSAGE_NOTE,
  perMessageRequests,
  round2,
  sumScopes,
  type PerMessageCpu,
  type PerMessageRequests,
  type ScopeCounts,
} from './request-counts.js';
import { formatStages, StageTimer, type EncodedStage } from './stage-timer.js';
import { ExitCodes } from '../../checker/run-summary.js';
import { BAD_ARGUMENTS_CODE, defineCommand, EXIT_COULD_NOT_RUN } from '../../cli/command-spec.js';
import { readCommandLine } from '../../cli/run-command.js';
import { ToolError } from '../../cli/tool-error.js';

const command = defineCommand({
  name: 'bench:cluster',
  purpose:
    'gateway processes on Cassandra and Redis under 1:1 traffic and one big group, next to a bare ws relay doing the same deliveries, in the same run',
  options: {
    gateways: { type: 'number', integer: true, min: 1, max: 64, default: 3, description: 'gateway processes' },
    pairs: { type: 'number', integer: true, min: 1, default: 50, description: '1:1 sender/receiver pairs' },
    'rate-1to1': { type: 'number', above: 0, default: 200, description: 'offered 1:1 messages per second' },
    members: { type: 'number', integer: true, min: 2, default: 256, description: 'members of the group' },
    'rate-group': { type: 'number', above: 0, default: 2, description: 'offered group messages per second' },
    'duration-s': { type: 'number', above: 0, default: 10, placeholder: 'S', description: 'seconds per traffic kind' },
    json: { type: 'string', placeholder: 'FILE', description: 'write the figures as JSON' },
    traffic: { type: 'string', choices: ['both', '1to1', 'group'], default: 'both', description: 'which traffic to run' },
    'stage-timing': {
      type: 'string',
      placeholder: 'DIR',
      description: "instrumented gateways: where a message's time goes and what it costs (figures also in DIR)",
    },
    'cpu-prof': { type: 'string', placeholder: 'DIR', description: 'with --stage-timing: CPU profiles of the timed gateways' },
    limit: {
      type: 'string',
      multiple: true,
      placeholder: 'name=value',
      description: 'gateway limit override, e.g. routeCacheTtlMs=0 to turn route keeping off',
    },
  },
  exitCodes: [{ code: ExitCodes.OK, meaning: 'measured' }, EXIT_COULD_NOT_RUN],
  notes: ['Starts the local services when their variables are not set.'],
});
const { values } = readCommandLine(command);
const run1to1 = values.traffic !== 'group';
const runGroup = values.traffic !== '1to1';
const stageDir = values['stage-timing'] ? path.resolve(values['stage-timing']) : undefined;
if (stageDir) mkdirSync(stageDir, { recursive: true });
if (values['cpu-prof'] && !stageDir)
  throw new ToolError(BAD_ARGUMENTS_CODE, '--cpu-prof needs --stage-timing (it profiles the timed gateways)');
if (values['cpu-prof']) mkdirSync(values['cpu-prof'], { recursive: true });
const gateways = values.gateways;
const pairs = values.pairs;
const members = values.members;
const rate1to1 = values['rate-1to1'];
const rateGroup = values['rate-group'];
const durationMs = values['duration-s'] * 1000;
const BENCH_LIMITS = ['rateFramesPerSecond=1000000', 'rateBurstFrames=1000000', ...values.limit];

const relayServer = await startChildServer(new URL('./bare-relay-server.ts', import.meta.url).pathname, []);
const relay1to1 = run1to1
  ? await runPairLoad({ target: 'relay', wsUrl: relayServer.wsUrl, pairs, ratePerSecond: rate1to1, durationMs })
  : undefined;
const relayGroup = runGroup
  ? await runGroupLoad({ target: 'relay', wsUrls: [relayServer.wsUrl], members, ratePerSecond: rateGroup, durationMs })
  : undefined;
await relayServer.stop();

const env = process.env.CASSANDRA_CONTACT_POINTS
  ? process.env
  : { ...process.env, ...(await ensureServices(['cassandra', 'redis', 's3'])) };
const cluster = await startCluster({
  nodes: gateways,
  world: 'production',
  basePort: 0,
  env: {
    ...env,
    ...(stageDir && { CHAT_STAGE_TIMING_DIR: stageDir }),
    // A CPU profile of every gateway process (timed gateways only), written when it stops.
    ...(values['cpu-prof'] && { CHAT_CPU_PROFILE_DIR: path.resolve(values['cpu-prof']) }),
    CASSANDRA_KEYSPACE: env.CASSANDRA_KEYSPACE ?? 'chat_bench',
    REDIS_KEY_PREFIX: `bench-${Date.now().toString(36)}:`,
  },
  limits: BENCH_LIMITS,
  ...(stageDir && { mainScript: new URL('./timed-gateway.ts', import.meta.url).pathname }),
});
const servicesCpuBefore = stageDir ? servicesCpuMs() : undefined;
let servicesCpuAtSteady: Record<string, number> | undefined;
let servicesCpuAtLoadEnd: Record<string, number> | undefined;
function markSteadyWindow(): void {
  servicesCpuAtSteady = servicesCpuMs();
  for (const node of cluster.nodes) node.process.kill('SIGUSR2');
}
let system1to1: LoadResult | undefined;
let systemGroup: LoadResult | undefined;
try {
  const target = { wsUrl: cluster.wsUrls[0]!, wsUrls: cluster.wsUrls, httpUrl: cluster.httpUrls[0]! };
  // With stage timing and 1:1 traffic alone, the gateways mark the end of the load's warm-up: the
  // steady window, from there to the end of the load, excludes connects and first messages.
  const steadyWindow = stageDir && values.traffic === '1to1';
  if (run1to1) {
    system1to1 = await runPairLoad({
      target: 'system',
      ...target,
      pairs,
      ratePerSecond: rate1to1,
      durationMs,
      ...(steadyWindow && { onMeasureStart: markSteadyWindow }),
    });
  }
  if (servicesCpuAtSteady) servicesCpuAtLoadEnd = servicesCpuMs();
  if (runGroup)
    systemGroup = await runGroupLoad({
      target: 'system',
      wsUrls: cluster.wsUrls,
      httpUrl: target.httpUrl,
      members,
      ratePerSecond: rateGroup,
      durationMs,
    });
} finally {
  await cluster.stop();
}
const servicesCpuAfter = stageDir ? servicesCpuMs() : undefined;

/** CPU time (user + system) the shared local services used so far, from their pid files; empty when not local. */
function servicesCpuMs(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of ['cassandra', 'redis']) {
    try {
      // The pid file holds "<pid> <start ticks> <port>".
      const pid = readFileSync(path.join('.services', name, `${name}.pid`), 'utf8')
        .trim()
        .split(/\s+/)[0];
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second).
      out[name] = (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      // Not a local service on this machine: nothing to report.
    }
  }
  return out;
}

const fmt = (n: number) => n.toFixed(1).padStart(8);
const row = (name: string, offered: string, relay: LoadResult | undefined, system: LoadResult | undefined) =>
  !relay || !system
    ? ''
    : `${name.padEnd(14)} ${offered.padStart(12)} | ${String(relay.deliveredPerSecond).padStart(8)} ${fmt(relay.latencyMs.p50)} ${fmt(relay.latencyMs.p99)} | ` +
      `${String(system.deliveredPerSecond).padStart(8)} ${fmt(system.latencyMs.p50)} ${fmt(system.latencyMs.p99)} | ${(system.deliveredPerSecond / Math.max(1, relay.deliveredPerSecond)).toFixed(2).padStart(6)}\n`;
process.stdout.write(
  `${gateways} gateway processes on Cassandra + Redis vs a bare ws relay; ${durationMs / 1000} s per point after 2 s warm-up\n`,
);
process.stdout.write('traffic         offered msg/s | relay deliv/s  p50 ms   p99 ms | system deliv/s p50 ms  p99 ms | ratio\n');
process.stdout.write(row(`1:1 (${pairs} pairs)`, String(rate1to1), relay1to1, system1to1));
process.stdout.write(row(`group of ${members}`, `${rateGroup} (×${members - 1})`, relayGroup, systemGroup));
/** The figures file a timed gateway writes on SIGTERM (timed-gateway.ts). */
interface GatewayFigures {
  cpuMs: number;
  cpuMsSinceReady: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  stages: Record<string, EncodedStage>;
  requests: Record<string, ScopeCounts>;
  /** From the bench's SIGUSR2 (end of warm-up) to SIGTERM. */
  steady?: { requests: Record<string, ScopeCounts>; cpuMs: number; sends: number };
}

/** The per-message figures of the --json output: whole-run requests and CPU at the top, the message path apart. */
type PerMessage = { sends: number; note: string } & PerMessageRequests & PerMessageCpu & { messagePath: PerMessageRequests };

let perMessage: PerMessage | undefined;
type Steady = { sends: number; leaseLwt: number } & PerMessageRequests & PerMessageCpu;
let steady: Steady | undefined;
if (stageDir) {
  const merged = new StageTimer();
  const nodes: GatewayFigures[] = [];
  for (let i = 1; i <= gateways; i++) {
    const node = JSON.parse(readFileSync(path.join(stageDir, `gw-${i}.json`), 'utf8')) as GatewayFigures;
    nodes.push(node);
    merged.merge(node.stages);
    process.stdout.write(
      `gw-${i} event-loop delay p50 ${node.eventLoopDelayMs.p50.toFixed(1)} ms, p99 ${node.eventLoopDelayMs.p99.toFixed(1)} ms, max ${node.eventLoopDelayMs.max.toFixed(1)} ms\n`,
    );
  }
  const gatewayCpuMs = nodes.reduce((sum, node) => sum + node.cpuMs, 0);
  const servicesCpu = servicesCpuUsedMs();
  const sends = merged.figures()['core.chat.send']?.count ?? 0;
  const cpuLine = Object.entries(servicesCpu).map(([name, ms]) => `${name} ${ms} ms`);
  process.stdout.write(`CPU while the cluster ran: gateways ${gatewayCpuMs} ms (incl. start-up), ${cpuLine.join(', ')}; sends ${sends}\n`);
  process.stdout.write(`stages over all gateways (warm-up included):\n${formatStages(merged.figures())}\n`);
  if (sends > 0) {
    perMessage = perMessageFigures(nodes, sends, servicesCpu);
    if (runGroup)
      process.stdout.write('note: group sends are among the sends below: the figures mix 1:1 and group messages (use --traffic 1to1)\n');
    process.stdout.write(`${formatPerMessage(sends, perMessage, perMessage.messagePath, perMessage)}\n${PER_MESSAGE_NOTE}\n`);
  }
  steady = steadyFigures(nodes);
  if (steady) process.stdout.write(`${formatSteady(steady.sends, steady, steady.leaseLwt, steady)}\n`);
}

/** The steady window's figures, when every gateway marked it and sent something in it. */
function steadyFigures(nodes: GatewayFigures[]): Steady | undefined {
  if (!servicesCpuAtSteady || !servicesCpuAtLoadEnd || nodes.some((node) => !node.steady)) return undefined;
  const sends = nodes.reduce((sum, node) => sum + node.steady!.sends, 0);
  if (sends === 0) return undefined;
  const scopes = nodes.map((node) => node.steady!.requests);
  const serviceMs = (name: string) =>
    servicesCpuAtLoadEnd?.[name] === undefined || servicesCpuAtSteady?.[name] === undefined
      ? undefined
      : round2((servicesCpuAtLoadEnd[name] - servicesCpuAtSteady[name]) / sends);
  return {
    sends,
    ...perMessageRequests(
      sumScopes(scopes, (scope) => scope !== LEASE_SCOPE),
      sends,
    ),
    leaseLwt: round2(sumScopes(scopes, (scope) => scope === LEASE_SCOPE).cql.lwt / sends),
    // Gateways: until their SIGTERM, a moment after the load ended.
    gatewayCpuMs: round2(nodes.reduce((sum, node) => sum + node.steady!.cpuMs, 0) / sends),
    cassandraCpuMs: serviceMs('cassandra'),
    redisCpuMs: serviceMs('redis'),
  };
}

/** Each local service's CPU ms from the cluster being ready to its stop. */
function servicesCpuUsedMs(): Record<string, number> {
  return Object.fromEntries(Object.entries(servicesCpuAfter ?? {}).map(([name, ms]) => [name, ms - (servicesCpuBefore?.[name] ?? 0)]));
}

/** Requests per send over all gateways (whole run and message path) and CPU per send; `sends` > 0. */
function perMessageFigures(nodes: GatewayFigures[], sends: number, servicesCpu: Record<string, number>): PerMessage {
  const scopes = nodes.map((node) => node.requests);
  const perSendMs = (ms: number | undefined) => (ms === undefined ? undefined : round2(ms / sends));
  return {
    sends,
    note: PER_MESSAGE_NOTE,
    ...perMessageRequests(
      sumScopes(scopes, () => true),
      sends,
    ),
    gatewayCpuMs: round2(nodes.reduce((sum, node) => sum + node.cpuMsSinceReady, 0) / sends),
    cassandraCpuMs: perSendMs(servicesCpu.cassandra),
    redisCpuMs: perSendMs(servicesCpu.redis),
    messagePath: perMessageRequests(
      sumScopes(scopes, (scope) => MESSAGE_PATH_SCOPES.has(scope)),
      sends,
    ),
  };
}

if (values.json) {
  writeFileSync(
    values.json,
    JSON.stringify(
      {
        kind: 'bench-cluster',
        gateways,
        pairs,
        members,
        rate1to1,
        rateGroup,
        durationMs,
        relay1to1,
        relayGroup,
        system1to1,
        systemGroup,
        perMessage,
        steady,
      },
      null,
      2,
    ),
  );
}

/**
 * Benchmark: the largest steady 1:1 rate at which the reference system as deployed — 3 gateway
 * processes on Cassandra and Redis — keeps deliver p99 < 200 ms under the load driver
 * (steady-1to1 at each rate), next to a bare `ws` relay at the same rates, measured in the same run.
 * Starts the local services when their variables are not set.
 * Options: `npx tsx load/bench/cluster-steady.ts --help`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureServices } from '../../infra/local/services-api.js';
import { readScenario } from '../../scenarios/format/index.js';
import type { LoadResult } from './open-model.js';
import { runPairLoad } from './pair-load.js';
import { localServicePid, ownCpuMs, processCpuMs } from './process-cpu.js';
import type { RunSummary } from '../../checker/run-summary.js';
import { startChildServer } from '../../system/cluster/child-server.js';
import { startCluster } from '../../system/cluster/cluster.js';
import { runLoad } from '../run-load.js';
import { countsPerMessage, openTableCounter, type TableCounts } from './cassandra-table-counts.js';
import { ExitCodes } from '../../checker/run-summary.js';
import { defineCommand, EXIT_COULD_NOT_RUN } from '../../cli/command-spec.js';
import { parseNumberList } from '../../cli/parse-command-line.js';
import { readCommandLine } from '../../cli/run-command.js';

const command = defineCommand({
  name: 'cluster-steady',
  runAs: 'npx tsx load/bench/cluster-steady.ts',
  purpose: 'the largest steady 1:1 rate at which gateways on Cassandra and Redis keep deliver p99 < 200 ms, next to a bare ws relay',
  options: {
    gateways: { type: 'number', integer: true, min: 1, max: 64, default: 3, description: 'gateway processes' },
    users: { type: 'number', integer: true, min: 2, default: 500, description: 'users of steady-1to1' },
    rates: { type: 'string', default: '25,50,100,200', placeholder: 'a,b,…', description: 'offered messages per second, one point each' },
    'duration-s': { type: 'number', above: 0, default: 20, placeholder: 'S', description: 'seconds per rate' },
    json: { type: 'string', placeholder: 'FILE', description: 'write the figures as JSON' },
    'cpu-prof': {
      type: 'string',
      placeholder: 'DIR',
      description: 'run instrumented gateways (load/bench/timed-gateway.ts) and write a CPU profile of each into DIR',
    },
  },
  exitCodes: [{ code: ExitCodes.OK, meaning: 'measured' }, EXIT_COULD_NOT_RUN],
  notes: ['Starts the local services when their variables are not set.'],
});
const { values } = readCommandLine(command);
const rates = parseNumberList(command, 'rates', values.rates, { above: 0 });
const durationS = values['duration-s'];
const users = values.users;
const BENCH_LIMITS = ['rateFramesPerSecond=1000000', 'rateBurstFrames=1000000'];
const base = await readScenario(new URL('../../scenarios/steady-1to1.yaml', import.meta.url).pathname);

const relayServer = await startChildServer(new URL('./bare-relay-server.ts', import.meta.url).pathname, []);
const relay: LoadResult[] = [];
for (const rate of rates)
  relay.push(
    await runPairLoad({ target: 'relay', wsUrl: relayServer.wsUrl, pairs: 50, ratePerSecond: rate, durationMs: durationS * 1000 }),
  );
await relayServer.stop();

const env = process.env.CASSANDRA_CONTACT_POINTS
  ? process.env
  : { ...process.env, ...(await ensureServices(['cassandra', 'redis', 's3'])) };
const keyspace = env.CASSANDRA_KEYSPACE ?? 'chat_bench';
const profileDir = values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });
const cluster = await startCluster({
  nodes: values.gateways,
  world: 'production',
  basePort: 0,
  env: {
    ...env,
    CASSANDRA_KEYSPACE: keyspace,
    REDIS_KEY_PREFIX: `loadbench-${Date.now().toString(36)}:`,
    ...(profileDir && { CHAT_CPU_PROFILE_DIR: profileDir, CHAT_STAGE_TIMING_DIR: profileDir }),
  },
  limits: BENCH_LIMITS,
  ...(profileDir && { mainScript: new URL('./timed-gateway.ts', import.meta.url).pathname }),
});
const tableCounter = await openTableCounter({
  contactPoint: env.CASSANDRA_CONTACT_POINTS!.split(',')[0]!,
  localDataCenter: env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
  keyspace,
});
/** CPU ms per acknowledged send, per kind of process, over one rate's run (connects, settling and checking included). */
type CpuPerMessage = { gateways: number; cassandra: number | null; redis: number | null; driver: number };
const system: Array<{
  rate: number;
  delivered_per_s: number;
  deliver: RunSummary['latency_ms']['deliver'];
  ack: RunSummary['latency_ms']['ack'];
  violations: number;
  /** Invariants of the first violations (the summary keeps up to 20 witnesses). */
  violation_kinds: Record<string, number>;
  quiesced: unknown;
  cpu_ms_per_message: CpuPerMessage;
  /**
   * The traffic phase alone (from its first send to its end: no connects, settling or check):
   * CPU ms per message offered in it, and the cores each kind of process kept busy.
   */
  traffic_cpu_ms_per_message: CpuPerMessage;
  traffic_cores_busy: CpuPerMessage;
  /** The node's own counts of local reads and writes (mutations) per offered message in the traffic phase, per table and in all. */
  traffic_cassandra_per_message: ReturnType<typeof countsPerMessage>;
}> = [];
const gatewayPids = cluster.nodes.map((node) => node.process.pid);
const servicePids = { cassandra: localServicePid('cassandra'), redis: localServicePid('redis') };
function cpuSnapshot() {
  return {
    gateways: gatewayPids.reduce<number>((sum, pid) => sum + (processCpuMs(pid) ?? 0), 0),
    cassandra: processCpuMs(servicePids.cassandra),
    redis: processCpuMs(servicePids.redis),
    driver: ownCpuMs(),
  };
}
type CpuSnapshot = ReturnType<typeof cpuSnapshot>;
/** CPU spent between two snapshots, per kind of process, divided by `divisor` (messages, or ms for cores busy). */
function cpuPer(before: CpuSnapshot, after: CpuSnapshot, divisor: number): CpuPerMessage {
  const one = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? null : Math.round(((b - a) / divisor) * 100) / 100;
  return {
    gateways: one(before.gateways, after.gateways)!,
    cassandra: one(before.cassandra, after.cassandra),
    redis: one(before.redis, after.redis),
    driver: one(before.driver, after.driver)!,
  };
}
/** A snapshot with the time it was taken. */
type Mark = { cpu: CpuSnapshot; atMs: number };
const mark = (): Mark => ({ cpu: cpuSnapshot(), atMs: performance.now() });

try {
  for (const rate of rates) {
    const scenario = { ...base, population: { ...base.population, users }, traffic: { ...base.traffic, messages_per_s: rate } };
    const before = cpuSnapshot();
    let trafficStart: Mark | undefined;
    let trafficEnd: Mark | undefined;
    let countsAtStart: Promise<TableCounts> | undefined;
    let countsAtEnd: Promise<TableCounts> | undefined;
    const result = await runLoad(scenario, {
      targets: cluster.wsUrls,
      tokenSecret: cluster.tokenSecret,
      durationS,
      log: (l) => process.stderr.write(`· ${l}\n`),
      onPhase: (phase) => {
        if (phase === 'traffic') {
          trafficStart = mark();
          countsAtStart = tableCounter.snapshot();
        }
        if (phase === 'settle') {
          trafficEnd = mark();
          countsAtEnd = tableCounter.snapshot();
        }
      },
    });
    const after = cpuSnapshot();
    for (const w of result.summary.invariants.witnesses.slice(0, 3)) process.stderr.write(`· violation: ${w.message}\n`);
    const s = result.summary;
    const acked = Math.max(1, s.messages.acked);
    system.push({
      rate,
      delivered_per_s: (s.rate_per_s as { delivered: number }).delivered,
      deliver: s.latency_ms.deliver,
      ack: s.latency_ms.ack,
      violations: s.invariants.violations,
      violation_kinds: countBy(s.invariants.witnesses.map((w) => w.invariant)),
      quiesced: s.quiesced,
      cpu_ms_per_message: cpuPer(before, after, acked),
      traffic_cpu_ms_per_message: cpuPer(trafficStart!.cpu, trafficEnd!.cpu, rate * durationS),
      traffic_cores_busy: cpuPer(trafficStart!.cpu, trafficEnd!.cpu, trafficEnd!.atMs - trafficStart!.atMs),
      traffic_cassandra_per_message: countsPerMessage(await countsAtStart!, await countsAtEnd!, rate * durationS),
    });
  }
} finally {
  await tableCounter.close();
  await cluster.stop();
}

process.stdout.write(
  `steady-1to1 (${users} users) on ${values.gateways} gateways (Cassandra + Redis) vs a bare ws relay (50 pairs); ${durationS} s per rate\n`,
);
process.stdout.write('offered msg/s | relay deliv/s  p50 ms  p99 ms | system deliv/s  ack p99  deliver p50  deliver p99  violations\n');
rates.forEach((rate, i) => {
  const r = relay[i]!;
  const s = system[i]!;
  process.stdout.write(
    `${String(rate).padStart(13)} | ${String(r.deliveredPerSecond).padStart(13)} ${r.latencyMs.p50.toFixed(1).padStart(7)} ${r.latencyMs.p99.toFixed(1).padStart(7)} | ` +
      `${String(s.delivered_per_s).padStart(14)} ${s.ack.p99.toFixed(1).padStart(8)} ${s.deliver.p50.toFixed(1).padStart(12)} ${s.deliver.p99.toFixed(1).padStart(12)} ${String(s.violations).padStart(11)}\n`,
  );
});
process.stdout.write('CPU ms per acknowledged message (whole run of each rate: connects, settling and the check included)\n');
process.stdout.write('offered msg/s | gateways  cassandra  redis  load driver\n');
for (const s of system) {
  const c = s.cpu_ms_per_message;
  const show = (v: number | null) => (v === null ? '—' : v.toFixed(2));
  process.stdout.write(
    `${String(s.rate).padStart(13)} | ${show(c.gateways).padStart(8)} ${show(c.cassandra).padStart(10)} ${show(c.redis).padStart(6)} ${show(c.driver).padStart(12)}\n`,
  );
}
process.stdout.write('Traffic phase only: Cassandra local reads / writes per offered message, as the node counted them\n');
for (const s of system) {
  const c = s.traffic_cassandra_per_message;
  const tables = Object.entries(c.tables)
    .map(([table, n]) => `${table} ${n.reads}/${n.writes}`)
    .join(', ');
  process.stdout.write(`${String(s.rate).padStart(13)} | reads ${c.reads}, writes ${c.writes} (${tables})\n`);
}
process.stdout.write('Traffic phase only: CPU ms per offered message, and (in brackets) cores kept busy\n');
process.stdout.write('offered msg/s | gateways      cassandra     redis         load driver   all\n');
for (const s of system) {
  const c = s.traffic_cpu_ms_per_message;
  const k = s.traffic_cores_busy;
  const show = (v: number | null, cores: number | null) => (v === null ? '—' : `${v.toFixed(2)} (${cores!.toFixed(2)})`).padEnd(13);
  const sum = (o: CpuPerMessage) => o.gateways + (o.cassandra ?? 0) + (o.redis ?? 0) + o.driver;
  process.stdout.write(
    `${String(s.rate).padStart(13)} | ${show(c.gateways, k.gateways)} ${show(c.cassandra, k.cassandra)} ${show(c.redis, k.redis)} ${show(c.driver, k.driver)} ${show(sum(c), sum(k))}\n`,
  );
}
const passing = system.filter((s) => s.deliver.p99 < 200 && s.violations === 0).map((s) => s.rate);
process.stdout.write(`largest rate with deliver p99 < 200 ms: ${passing.length > 0 ? Math.max(...passing) : 'none of those measured'}\n`);
if (values.json)
  writeFileSync(values.json, JSON.stringify({ kind: 'bench-cluster-steady', users, durationS, rates, relay, system }, null, 2));

function countBy(names: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of names) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

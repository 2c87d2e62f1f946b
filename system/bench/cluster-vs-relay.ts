/**
 * Benchmark: the reference system as deployed — N gateway processes on Cassandra and Redis —
 * for 1:1 traffic and for one big group (default 256 members), next to a bare `ws` relay doing
 * the same deliveries, measured in the same run. Starts the local services when their variables
 * are not set.
 *
 *   npm run bench:cluster -- [--gateways 3] [--pairs 50] [--rate-1to1 200] [--members 256]
 *                            [--rate-group 2] [--duration-s 10] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ensureServices } from '../../infra/local/services-api.js';
import { startChildServer } from '../cluster/child-server.js';
import { startCluster } from '../cluster/cluster.js';
import { runGroupLoad } from './group-load.js';
import type { LoadResult } from './open-model.js';
import { runPairLoad } from './pair-load.js';

const { values } = parseArgs({
  options: {
    gateways: { type: 'string', default: '3' },
    pairs: { type: 'string', default: '50' },
    'rate-1to1': { type: 'string', default: '200' },
    members: { type: 'string', default: '256' },
    'rate-group': { type: 'string', default: '2' },
    'duration-s': { type: 'string', default: '10' },
    json: { type: 'string' },
  },
});
const gateways = Number(values.gateways);
const pairs = Number(values.pairs);
const members = Number(values.members);
const rate1to1 = Number(values['rate-1to1']);
const rateGroup = Number(values['rate-group']);
const durationMs = Number(values['duration-s']) * 1000;
const BENCH_LIMITS = ['rateFramesPerSecond=1000000', 'rateBurstFrames=1000000'];

const relayServer = await startChildServer(new URL('./bare-relay-server.ts', import.meta.url).pathname, []);
const relay1to1 = await runPairLoad({ target: 'relay', wsUrl: relayServer.wsUrl, pairs, ratePerSecond: rate1to1, durationMs });
const relayGroup = await runGroupLoad({ target: 'relay', wsUrls: [relayServer.wsUrl], members, ratePerSecond: rateGroup, durationMs });
await relayServer.stop();

const env = process.env.CASSANDRA_CONTACT_POINTS ? process.env : { ...process.env, ...(await ensureServices(['cassandra', 'redis', 's3'])) };
const cluster = await startCluster({
  nodes: gateways,
  world: 'production',
  basePort: 0,
  env: { ...env, CASSANDRA_KEYSPACE: env.CASSANDRA_KEYSPACE ?? 'chat_bench', REDIS_KEY_PREFIX: `bench-${Date.now().toString(36)}:` },
  limits: BENCH_LIMITS,
});
let system1to1: LoadResult;
let systemGroup: LoadResult;
try {
  const target = { wsUrl: cluster.wsUrls[0]!, wsUrls: cluster.wsUrls, httpUrl: cluster.httpUrls[0]! };
  system1to1 = await runPairLoad({ target: 'system', ...target, pairs, ratePerSecond: rate1to1, durationMs });
  systemGroup = await runGroupLoad({ target: 'system', wsUrls: cluster.wsUrls, httpUrl: target.httpUrl, members, ratePerSecond: rateGroup, durationMs });
} finally {
  await cluster.stop();
}

const fmt = (n: number) => n.toFixed(1).padStart(8);
const row = (name: string, offered: string, relay: LoadResult, system: LoadResult) =>
  `${name.padEnd(14)} ${offered.padStart(12)} | ${String(relay.deliveredPerSecond).padStart(8)} ${fmt(relay.latencyMs.p50)} ${fmt(relay.latencyMs.p99)} | ` +
  `${String(system.deliveredPerSecond).padStart(8)} ${fmt(system.latencyMs.p50)} ${fmt(system.latencyMs.p99)} | ${(system.deliveredPerSecond / Math.max(1, relay.deliveredPerSecond)).toFixed(2).padStart(6)}\n`;
process.stdout.write(`${gateways} gateway processes on Cassandra + Redis vs a bare ws relay; ${durationMs / 1000} s per point after 2 s warm-up\n`);
process.stdout.write('traffic         offered msg/s | relay deliv/s  p50 ms   p99 ms | system deliv/s p50 ms  p99 ms | ratio\n');
process.stdout.write(row(`1:1 (${pairs} pairs)`, String(rate1to1), relay1to1, system1to1));
process.stdout.write(row(`group of ${members}`, `${rateGroup} (×${members - 1})`, relayGroup, systemGroup));
if (values.json) {
  writeFileSync(values.json, JSON.stringify({ kind: 'bench-cluster', gateways, pairs, members, rate1to1, rateGroup, durationMs, relay1to1, relayGroup, system1to1, systemGroup }, null, 2));
}

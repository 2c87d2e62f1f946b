/**
 * Benchmark: delivered msgs/s and send→deliver latency for 1:1 traffic, the reference system
 * (embedded world, one gateway process) next to a bare `ws` relay, in the same run on the same
 * machine. Servers run in their own processes; the load runs in this one.
 * Options: `npm run bench -- --help`.
 */
import { writeFileSync } from 'node:fs';
import { startChildServer } from '../../system/cluster/child-server.js';
import type { LoadResult } from './open-model.js';
import { runPairLoad } from './pair-load.js';
import { ExitCodes } from '../../checker/run-summary.js';
import { defineCommand, EXIT_COULD_NOT_RUN } from '../../cli/command-spec.js';
import { parseNumberList } from '../../cli/parse-command-line.js';
import { readCommandLine } from '../../cli/run-command.js';

const command = defineCommand({
  name: 'bench',
  purpose: '1:1 traffic against the reference system (embedded world, one gateway process) and a bare ws relay, in the same run',
  options: {
    pairs: { type: 'number', integer: true, min: 1, default: 50, description: 'sender/receiver pairs (two connections each)' },
    rates: { type: 'string', default: '2000,5000,10000', placeholder: 'a,b,…', description: 'offered messages per second, one point each' },
    'duration-s': { type: 'number', above: 0, default: 10, placeholder: 'S', description: 'seconds per point' },
    json: { type: 'string', placeholder: 'FILE', description: 'write the figures as JSON' },
  },
  exitCodes: [{ code: ExitCodes.OK, meaning: 'measured (figures are printed, never judged)' }, EXIT_COULD_NOT_RUN],
});
const { values } = readCommandLine(command);

/** The benchmark measures throughput, so per-connection rate limits are lifted. */
const BENCH_LIMITS = ['--limit', 'rateFramesPerSecond=1000000', '--limit', 'rateBurstFrames=1000000'];
const pairs = values.pairs;
const durationMs = values['duration-s'] * 1000;
const rates = parseNumberList(command, 'rates', values.rates, { integer: true, min: 1 });
const rows: Array<{ rate: number; relay: LoadResult; system: LoadResult }> = [];

for (const rate of rates) {
  const relayServer = await startChildServer(new URL('./bare-relay-server.ts', import.meta.url).pathname, []);
  const relay = await runPairLoad({ target: 'relay', wsUrl: relayServer.wsUrl, pairs, ratePerSecond: rate, durationMs });
  await relayServer.stop();
  const systemServer = await startChildServer(new URL('../../system/main.ts', import.meta.url).pathname, [
    '--port',
    '0',
    '--quiet',
    ...BENCH_LIMITS,
  ]);
  const system = await runPairLoad({
    target: 'system',
    wsUrl: systemServer.wsUrl,
    httpUrl: systemServer.httpUrl!,
    pairs,
    ratePerSecond: rate,
    durationMs,
  });
  await systemServer.stop();
  rows.push({ rate, relay, system });
}

const fmt = (n: number) => n.toFixed(1).padStart(8);
process.stdout.write(
  `1:1 traffic, ${pairs} pairs (${pairs * 2} connections), ${durationMs / 1000} s per point; servers in their own process\n`,
);
process.stdout.write('offered/s | relay deliv/s   p50 ms   p99 ms | system deliv/s   p50 ms   p99 ms | deliv ratio\n');
for (const { rate, relay, system } of rows) {
  process.stdout.write(
    `${String(rate).padStart(9)} | ${String(relay.deliveredPerSecond).padStart(12)} ${fmt(relay.latencyMs.p50)} ${fmt(relay.latencyMs.p99)} | ` +
      `${String(system.deliveredPerSecond).padStart(13)} ${fmt(system.latencyMs.p50)} ${fmt(system.latencyMs.p99)} | ${(system.deliveredPerSecond / relay.deliveredPerSecond).toFixed(2).padStart(10)}\n`,
  );
}
if (values.json) writeFileSync(values.json, JSON.stringify({ kind: 'bench', pairs, durationMs, rows }, null, 2));

/**
 * Benchmark: what one driver core holds and generates. The target is the embedded system in its
 * own process (so the driver process measures only itself); the driver's main-thread event-loop
 * utilisation (ELU) over the traffic phase is its share of one core.
 *
 * Options: `npx tsx load/bench/driver-capacity.ts --help`.
 *
 * Connections: N devices held open (1 msg/s of traffic, heartbeats running): ELU and heap per connection.
 * Messages: 200 users at each rate: sent msgs/s ÷ ELU = msgs/s per driver core (while the target keeps up).
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseScenario, type Scenario } from '../../scenarios/format/index.js';
import { startChildServer } from '../../system/cluster/child-server.js';
import { runLoad } from '../run-load.js';
import { defineCommand, EXIT_COULD_NOT_RUN, EXIT_OK } from '../../cli/command-spec.js';
import { parseNumberList } from '../../cli/parse-command-line.js';
import { readCommandLine } from '../../cli/run-command.js';

const command = defineCommand({
  name: 'driver-capacity',
  runAs: 'npx tsx load/bench/driver-capacity.ts',
  purpose: 'what one load-driver core holds (connections) and generates (msgs/s), against the embedded system in its own process',
  options: {
    connections: { type: 'number', integer: true, min: 1, default: 5000, description: 'devices held open for the connection figures' },
    rates: { type: 'string', default: '500,1000,2000', placeholder: 'a,b,…', description: 'offered msgs/s of 200 users, one point each' },
    'duration-s': { type: 'number', above: 0, default: 15, placeholder: 'S', description: 'traffic seconds per point' },
    json: { type: 'string', placeholder: 'FILE', description: 'write the figures as JSON' },
  },
  exitCodes: [EXIT_OK, EXIT_COULD_NOT_RUN],
});
const { values } = readCommandLine(command);
const durationS = values['duration-s'];
const LIMITS = ['--limit', 'rateFramesPerSecond=1000000', '--limit', 'rateBurstFrames=1000000'];

function scenarioFor(users: number, rate: number, groupShare: number): Scenario {
  return parseScenario(
    {
      name: 'driver-capacity',
      duration_s: durationS,
      warmup_s: 2,
      liveness_bound_s: 60,
      population: { users, online_share: 1 },
      traffic: { messages_per_s: rate, group_share: groupShare, media: { share: 0 }, reads: { share: 0 } },
      groups: { per_user: 0 },
      live: { presence: false, connect_concurrency: 500 },
    },
    'driver-capacity',
  );
}

async function measure(users: number, rate: number) {
  const server = await startChildServer(new URL('../../system/main.ts', import.meta.url).pathname, [
    '--port',
    '0',
    '--quiet',
    '--dev-tokens',
    ...LIMITS,
  ]);
  try {
    let from: ReturnType<typeof performance.eventLoopUtilization> | undefined;
    let to: ReturnType<typeof performance.eventLoopUtilization> | undefined;
    let heapAtTraffic = 0;
    const baseHeap = process.memoryUsage().heapUsed;
    const result = await runLoad(scenarioFor(users, rate, 0), {
      targets: [server.wsUrl],
      onProgress: (p) => {
        if (p.phase !== 'traffic') return;
        if (!from && p.elapsedS >= 2) {
          from = performance.eventLoopUtilization();
          heapAtTraffic = process.memoryUsage().heapUsed;
        } else if (from) to = performance.eventLoopUtilization(from);
      },
    });
    const elu = to?.utilization ?? NaN;
    const s = result.summary;
    return {
      users,
      connections: s.devices,
      offered_per_s: rate,
      sent_per_s: (s.rate_per_s as { sent: number }).sent,
      driver_elu: Math.round(elu * 1000) / 1000,
      msgs_per_s_per_core: Math.round((s.rate_per_s as { sent: number }).sent / elu),
      // Only meaningful for the idle-connections row (a busy run's heap moves with garbage).
      heap_bytes_per_connection: rate <= 1 ? Math.round((heapAtTraffic - baseHeap) / s.devices) : null,
      deliver_p99_ms: s.latency_ms.deliver.p99,
      violations: s.invariants.violations,
    };
  } finally {
    await server.stop();
  }
}

const rows = [await measure(values.connections, 1)];
for (const rate of parseNumberList(command, 'rates', values.rates, { above: 0 })) rows.push(await measure(200, rate));
process.stdout.write('users  conns  offered/s  sent/s  driver ELU  msgs/s per core  heap B/conn  deliver p99 ms  violations\n');
for (const r of rows) {
  process.stdout.write(
    `${String(r.users).padStart(5)} ${String(r.connections).padStart(6)} ${String(r.offered_per_s).padStart(10)} ${String(r.sent_per_s).padStart(7)} ${r.driver_elu.toFixed(3).padStart(11)} ${String(r.msgs_per_s_per_core).padStart(16)} ${String(r.heap_bytes_per_connection ?? '-').padStart(12)} ${r.deliver_p99_ms.toFixed(1).padStart(15)} ${String(r.violations).padStart(11)}\n`,
  );
}
if (values.json) writeFileSync(values.json, JSON.stringify({ kind: 'bench-driver-capacity', durationS, rows }, null, 2));

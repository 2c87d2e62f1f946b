/**
 * Benchmark: how closely a cell run (a sample of the population through the real code, the rest
 * as background load on the same servers) reproduces a run of every user in detail. Runs the
 * same scenario, seed and population once in full detail and once per cell size, one after the
 * other in this process, and prints latency, utilisation, fan-out and cost side by side.
 * Options: `npx tsx simulator/bench/cell-fidelity.ts --help`.
 *
 * --cassandra-concurrency shrinks the Cassandra tier so that it runs busy: agreement at low
 * utilisation proves little, since nothing queues.
 */
import { writeFileSync } from 'node:fs';
import { readScenario, type Scenario } from '../../scenarios/format/index.js';
import { runSimulation } from '../run-simulation.js';
import { shortenScenario } from '../shorten-scenario.js';
import { defineCommand, EXIT_COULD_NOT_RUN, EXIT_OK } from '../../cli/command-spec.js';
import { parseNumberList } from '../../cli/parse-command-line.js';
import { readCommandLine } from '../../cli/run-command.js';

const command = defineCommand({
  name: 'cell-fidelity',
  runAs: 'npx tsx simulator/bench/cell-fidelity.ts',
  purpose: 'how closely cell runs of each size reproduce a run of every user in detail (latency, utilisation, fan-out, cost side by side)',
  options: {
    scenario: { type: 'string', default: 'scenarios/peak-hour.yaml', placeholder: 'FILE', description: 'the scenario' },
    users: { type: 'number', integer: true, min: 1, default: 200_000, description: 'the population, every user in detail in the full run' },
    cells: { type: 'string', default: '20000,10000', placeholder: 'a,b,…', description: 'cell sizes to compare' },
    'duration-s': { type: 'number', above: 0, default: 120, placeholder: 'S', description: 'simulated seconds' },
    'cassandra-concurrency': { type: 'number', integer: true, min: 1, description: 'shrink the Cassandra tier so that it runs busy' },
    json: { type: 'string', placeholder: 'FILE', description: 'write the figures as JSON' },
  },
  exitCodes: [EXIT_OK, EXIT_COULD_NOT_RUN],
});
const { values } = readCommandLine(command);

const users = values.users;
const durationS = values['duration-s'];
const cells = parseNumberList(command, 'cells', values.cells, { integer: true, min: 1 });
if (!(users > 0) || !(durationS > 0) || cells.some((c) => !(c > 0 && c < users))) {
  console.error('--users and --duration-s must be positive, every --cells size below --users');
  process.exit(3);
}

const base = await readScenario(values.scenario);
function variant(cellUsers: number): Scenario {
  const concurrency = values['cassandra-concurrency'] ?? base.sim.cassandra.concurrency;
  return {
    ...shortenScenario(base, durationS),
    population: { ...base.population, users },
    sim: { ...base.sim, cell_users: cellUsers, cell_background: true, cassandra: { ...base.sim.cassandra, concurrency } },
  };
}

interface Row {
  run: string;
  detailedUsers: number;
  ackP99Ms: number;
  deliverP50Ms: number;
  deliverP99Ms: number;
  deliverP999Ms: number;
  cassandraUtilisation: number;
  redisUtilisation: number;
  cassandraQueuePeak: number;
  fanout: number;
  violations: number;
  events: number;
  wallS: number;
}

const rows: Row[] = [];
for (const cellUsers of [users, ...cells]) {
  const started = performance.now();
  const result = await runSimulation({ scenario: variant(cellUsers), seed: base.seed ?? 1 });
  const s = result.summary as unknown as {
    latency_ms: { ack: { p99: number }; deliver: { p50: number; p99: number; p999: number } };
    utilisation: { cassandra: number; redis: number };
    depths: { cassandra_queue_peak: number };
    fanout: { amplification: number };
    invariants: { violations: number };
    sim: { events: number };
  };
  rows.push({
    run: cellUsers === users ? 'every user' : `cell 1/${Math.round(users / cellUsers)}`,
    detailedUsers: cellUsers,
    ackP99Ms: s.latency_ms.ack.p99,
    deliverP50Ms: s.latency_ms.deliver.p50,
    deliverP99Ms: s.latency_ms.deliver.p99,
    deliverP999Ms: s.latency_ms.deliver.p999,
    cassandraUtilisation: s.utilisation.cassandra,
    redisUtilisation: s.utilisation.redis,
    cassandraQueuePeak: s.depths.cassandra_queue_peak,
    fanout: s.fanout.amplification,
    violations: s.invariants.violations,
    events: s.sim.events,
    wallS: Math.round((performance.now() - started) / 100) / 10,
  });
  process.stderr.write(`done: ${rows[rows.length - 1]!.run}\n`);
}

const header = [
  'run',
  'users in detail',
  'ack p99',
  'deliver p50',
  'deliver p99',
  'deliver p99.9',
  'cassandra util',
  'redis util',
  'cassandra queue peak',
  'fan-out',
  'violations',
  'events',
  'wall s',
];
const lines = rows.map((r) =>
  [
    r.run,
    r.detailedUsers,
    r.ackP99Ms,
    r.deliverP50Ms,
    r.deliverP99Ms,
    r.deliverP999Ms,
    r.cassandraUtilisation,
    r.redisUtilisation,
    r.cassandraQueuePeak,
    r.fanout,
    r.violations,
    r.events,
    r.wallS,
  ].map(String),
);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
console.log(
  `cell fidelity · ${base.name} · ${users} users · ${durationS} s · cassandra concurrency ${variant(users).sim.cassandra.concurrency} · latencies in ms`,
);
for (const l of [header, ...lines]) console.log(l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
if (values.json) writeFileSync(values.json, `${JSON.stringify({ scenario: base.name, users, durationS, rows }, null, 2)}\n`);

/**
 * Benchmark: does a hostile client slow everyone else? An unrelated pair's send→deliver latency
 * with nobody else connected (baseline), then in the same run while hostile clients send the
 * costliest frame of every type at their full rate limit (system/testing/hostile-frames.ts).
 * Prints p50/p99 of both phases and the p99 ratio (the goal: at most 2×). The server runs in its
 * own process with its default limits, the hostile clients on their own thread, the pair here.
 * Options: `npx tsx load/bench/hostile-clients.ts --help`.
 */
import { writeFileSync } from 'node:fs';
import { startChildServer } from '../../system/cluster/child-server.js';
import { startHostileFlood, type FloodStats } from './hostile-flood.js';
import type { LoadResult } from './open-model.js';
import { runPairLoad } from './pair-load.js';
import { defineCommand, EXIT_COULD_NOT_RUN, EXIT_OK } from '../../cli/command-spec.js';
import { readCommandLine } from '../../cli/run-command.js';

const command = defineCommand({
  name: 'hostile-clients',
  runAs: 'npx tsx load/bench/hostile-clients.ts',
  purpose:
    "does a hostile client slow everyone else? an unrelated pair's latency alone, then while hostile clients flood the costliest frames",
  options: {
    hostile: { type: 'number', integer: true, min: 1, default: 4, description: 'hostile clients' },
    // Messages per second over both ends of the pair: 20 each, well within one client's limit.
    'pair-rate': { type: 'number', above: 0, default: 40, description: "the pair's msgs/s over both ends" },
    'duration-s': { type: 'number', above: 0, default: 10, placeholder: 'S', description: 'seconds per phase' },
    'warmup-s': { type: 'number', min: 0, default: 2, placeholder: 'S', description: 'seconds before measuring' },
    json: { type: 'string', placeholder: 'FILE', description: 'write the figures as JSON' },
  },
  exitCodes: [EXIT_OK, EXIT_COULD_NOT_RUN],
});
const { values } = readCommandLine(command);

const hostileClients = values.hostile;
const pairRate = values['pair-rate'];
const durationMs = values['duration-s'] * 1000;
const warmupMs = values['warmup-s'] * 1000;
/** The p99 the pair may reach under attack, as a multiple of its baseline. */
const P99_RATIO_GOAL = 2;

const server = await startChildServer(new URL('../../system/main.ts', import.meta.url).pathname, ['--port', '0', '--quiet']);
try {
  const pairLoad = () =>
    runPairLoad({
      target: 'system',
      wsUrl: server.wsUrl,
      httpUrl: server.httpUrl!,
      pairs: 1,
      ratePerSecond: pairRate,
      durationMs,
      warmupMs,
    });
  const baseline = await pairLoad();

  const tokens = await Promise.all(Array.from({ length: hostileClients }, (_, i) => devToken(server.httpUrl!, `hostile-${i}`)));
  const flood = await startHostileFlood({ wsUrl: server.wsUrl, tokens });
  flood.start();
  let underAttack: LoadResult;
  let floodStats: FloodStats;
  try {
    underAttack = await pairLoad();
  } finally {
    floodStats = await flood.stop();
  }
  report(baseline, underAttack, floodStats, flood.frameKinds);
} finally {
  await server.stop();
}

function report(baseline: LoadResult, underAttack: LoadResult, flood: FloodStats, frameKinds: number): void {
  const ratio = underAttack.latencyMs.p99 / baseline.latencyMs.p99;
  const floodSeconds = (durationMs + warmupMs) / 1000;
  const row = (phase: string, r: LoadResult) =>
    `${phase.padEnd(22)}${String(r.sent).padStart(6)}${String(r.delivered).padStart(10)}${r.latencyMs.p50.toFixed(1).padStart(9)}${r.latencyMs.p99.toFixed(1).padStart(9)}${r.latencyMs.max.toFixed(1).padStart(9)}`;
  console.log(`unrelated pair, ${pairRate} msgs/s for ${durationMs / 1000} s per phase (after ${warmupMs / 1000} s warm-up)`);
  console.log(
    `${'phase'.padEnd(22)}${'sent'.padStart(6)}${'delivered'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}`,
  );
  console.log(row('baseline', baseline));
  console.log(row(`${hostileClients} hostile clients`, underAttack));
  console.log(`p99 ratio (hostile / baseline): ${ratio.toFixed(2)}× (goal ≤ ${P99_RATIO_GOAL}×)`);
  console.log(
    `hostile: ${hostileClients} clients × ${frameKinds} frame kinds, ${flood.framesSent} frames (~${Math.round(flood.framesSent / floodSeconds)}/s, ` +
      `${(flood.bytesSent / floodSeconds / 1024 / 1024).toFixed(1)} MiB/s); closed by the server: ${flood.closedCodes.length ? flood.closedCodes.join(', ') : 'none'}`,
  );
  console.log(
    `hostile answers: ${Object.entries(flood.answers)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ')}`,
  );
  if (values.json) {
    writeFileSync(
      values.json,
      JSON.stringify({ hostileClients, pairRate, durationMs, warmupMs, baseline, underAttack, p99Ratio: ratio, flood }, null, 2),
    );
  }
}

async function devToken(httpUrl: string, userId: string): Promise<string> {
  const response = await fetch(`${httpUrl}/dev/token`, { method: 'POST', body: JSON.stringify({ userId, deviceId: 'bench' }) });
  if (!response.ok) throw new Error(`dev token for ${userId}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

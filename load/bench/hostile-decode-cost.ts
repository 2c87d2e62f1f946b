/**
 * How long the gateway's decoder takes over each hostile frame (system/testing/hostile-frames.ts),
 * in this process, without sockets: the work one frame can cause before it is refused.
 * Options: `npx tsx load/bench/hostile-decode-cost.ts --help`.
 *
 * Prints the slowest frames (ms per decode, frame length) and the time one round of every frame takes.
 */
import { defaultLimits } from '../../system/core/limits.js';
import { decodeClientFrame } from '../../system/protocol/codec.js';
import { hostileFrames } from '../../system/testing/hostile-frames.js';
import { defineCommand, EXIT_COULD_NOT_RUN, EXIT_OK } from '../../cli/command-spec.js';
import { readCommandLine } from '../../cli/run-command.js';

const command = defineCommand({
  name: 'hostile-decode-cost',
  runAs: 'npx tsx load/bench/hostile-decode-cost.ts',
  purpose: "how long the gateway's decoder takes over each hostile frame, without sockets",
  options: {
    rounds: { type: 'number', integer: true, min: 1, default: 10, description: 'decodes timed per frame' },
    top: { type: 'number', integer: true, min: 1, default: 15, description: 'slowest frames printed' },
  },
  exitCodes: [EXIT_OK, EXIT_COULD_NOT_RUN],
});
const { values } = readCommandLine(command);
const rounds = values.rounds;
const WARMUP_ROUNDS = 3;

const rows = hostileFrames(defaultLimits).map((frame) => {
  for (let i = 0; i < WARMUP_ROUNDS; i++) decodeClientFrame(frame.text, defaultLimits);
  const startedAt = performance.now();
  for (let i = 0; i < rounds; i++) decodeClientFrame(frame.text, defaultLimits);
  return { name: frame.rid ?? '?', msPerDecode: (performance.now() - startedAt) / rounds, chars: frame.text.length };
});
rows.sort((a, b) => b.msPerDecode - a.msPerDecode);
console.log(`decode of each hostile frame, mean of ${rounds} after ${WARMUP_ROUNDS} warm-up decodes`);
for (const row of rows.slice(0, values.top))
  console.log(`${row.name.padEnd(44)} ${row.msPerDecode.toFixed(3).padStart(7)} ms  ${row.chars} chars`);
console.log(`one round of all ${rows.length} frames: ${rows.reduce((sum, r) => sum + r.msPerDecode, 0).toFixed(1)} ms`);

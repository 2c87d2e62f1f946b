/**
 * How long the gateway's decoder takes over each hostile frame (system/testing/hostile-frames.ts),
 * in this process, without sockets: the work one frame can cause before it is refused.
 *
 *   npx tsx load/bench/hostile-decode-cost.ts [--rounds 10] [--top 15]
 *
 * Prints the slowest frames (ms per decode, frame length) and the time one round of every frame takes.
 */
import { parseArgs } from 'node:util';
import { defaultLimits } from '../../system/core/limits.js';
import { decodeClientFrame } from '../../system/protocol/codec.js';
import { hostileFrames } from '../../system/testing/hostile-frames.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '10' }, top: { type: 'string', default: '15' } } });
const rounds = Number(values.rounds);
const WARMUP_ROUNDS = 3;

const rows = hostileFrames(defaultLimits).map((frame) => {
  for (let i = 0; i < WARMUP_ROUNDS; i++) decodeClientFrame(frame.text, defaultLimits);
  const startedAt = performance.now();
  for (let i = 0; i < rounds; i++) decodeClientFrame(frame.text, defaultLimits);
  return { name: frame.rid ?? '?', msPerDecode: (performance.now() - startedAt) / rounds, chars: frame.text.length };
});
rows.sort((a, b) => b.msPerDecode - a.msPerDecode);
console.log(`decode of each hostile frame, mean of ${rounds} after ${WARMUP_ROUNDS} warm-up decodes`);
for (const row of rows.slice(0, Number(values.top))) console.log(`${row.name.padEnd(44)} ${row.msPerDecode.toFixed(3).padStart(7)} ms  ${row.chars} chars`);
console.log(`one round of all ${rows.length} frames: ${rows.reduce((sum, r) => sum + r.msPerDecode, 0).toFixed(1)} ms`);

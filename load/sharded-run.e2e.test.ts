import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../scenarios/format/index.js';
import { startEmbeddedTarget } from './embedded-target.js';
import { mergedSummary, mergeHistories } from './merge.js';
import { runLoad } from './run-load.js';
import { objectivesOf } from './slo-gate.js';
import type { LoadSample } from './types.js';

/*
 * Two driver shards run one scenario together against one target (as two machines would), and
 * the merge checks their histories as one: cross-shard 1:1 and group messages are delivered and
 * nothing is lost, duplicated or reordered.
 */

const scenario = parseScenarioText(
  `
name: sharded
seed: 3
duration_s: 4
liveness_bound_s: 20
population: { users: 24, devices_per_user: [0.5, 0.5], online_share: 1 }
traffic: { messages_per_s: 12, group_share: 0.4, media: { share: 0 }, reads: { share: 0.5, delay_s: { kind: constant, value: 0.2 } } }
groups: { per_user: 0.2, size: { kind: uniform, min: 3, max: 8 } }
slo: { deliver_p99_ms: 5000 }
`,
  'sharded',
);

describe('sharded run', () => {
  it('splits the users, and the merged histories check clean', async () => {
    const target = await startEmbeddedTarget();
    try {
      const samples: LoadSample[] = [];
      const common = { targets: [target.wsUrl], tokenSecret: target.tokenSecret, runId: `shard-test-${Date.now().toString(36)}` };
      const [a, b] = await Promise.all([
        runLoad(scenario, { ...common, shard: { index: 0, count: 2 }, timeSeries: { record: (s) => samples.push(s) } }),
        runLoad(scenario, { ...common, shard: { index: 1, count: 2 } }),
      ]);
      expect(a.summary.users + b.summary.users).toBe(24);
      expect([a.summary.shard, b.summary.shard]).toEqual(['0/2', '1/2']);
      for (const r of [a, b]) {
        expect(r.summary.invariants.violations, JSON.stringify(r.summary.invariants.witnesses)).toBe(0);
        expect(r.summary.quiesced).toBe(true);
      }
      expect(samples.length).toBeGreaterThanOrEqual(3);
      const header = (shard: string, events: number) => ({
        format: 'chatload-history' as const,
        version: 1 as const,
        scenario: 'sharded',
        run_id: common.runId,
        shard,
        seed: 3,
        events,
      });
      const shards = [
        { header: header('0/2', a.history.length), events: a.history },
        { header: header('1/2', b.history.length), events: b.history },
      ];
      const merged = mergedSummary(shards, mergeHistories(shards), objectivesOf(scenario.slo), 1);
      expect(merged.invariants.violations, JSON.stringify(merged.invariants.witnesses)).toBe(0);
      expect(merged.users).toBe(24);
      // Deliveries crossed shards: more messages were delivered than either shard's devices saw alone.
      expect(merged.messages.delivered).toBe(a.summary.messages.delivered + b.summary.messages.delivered);
      expect(merged.latency_ms.deliver.max).toBeGreaterThan(0);
    } finally {
      await target.stop();
    }
  }, 40_000);
});

import { describe, expect, it } from 'vitest';
import type { InvariantName } from '../checker/index.js';
import { FAULT_KINDS } from '../scenarios/format/index.js';
import { runSimulation, type SimResult } from './run-simulation.js';
import { dropOneInboxWrite, forgetIdempotency } from './testing/planted-bugs.js';
import { tinyScenario } from './testing/tiny-scenario.js';

/** Every invariant; known findings that are not fixed yet are left out per fault below. */
const JUDGED: InvariantName[] = ['durability', 'order', 'no-duplicates', 'receipts', 'presence', 'membership'];

function violationsOf(result: SimResult, names: InvariantName[] = JUDGED): string[] {
  return result.violations.filter((v) => names.includes(v.invariant)).map((v) => `${v.invariant}: ${v.message}`);
}

describe('simulator', () => {
  it('gives the same trace hash for the same seed and a different one for another seed', async () => {
    const scenario = tinyScenario('', { durationS: 10 });
    const a = await runSimulation({ scenario, seed: 11 });
    const b = await runSimulation({ scenario, seed: 11 });
    const c = await runSimulation({ scenario, seed: 12 });
    expect(a.summary.messages.acked).toBeGreaterThan(100);
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.summary.messages).toEqual(a.summary.messages);
    expect(c.traceHash).not.toBe(a.traceHash);
  });

  it('charges the measured MLS cost to encrypted users: every delivery at least encrypt + decrypt slower', async () => {
    const scenario = tinyScenario('', { durationS: 10 });
    const plain = await runSimulation({ scenario, seed: 21 });
    const mls = { encrypt_us: 50_000, decrypt_us: 30_000, overhead_bytes: 256 };
    const encrypted = await runSimulation({
      scenario: { ...scenario, traffic: { ...scenario.traffic, encrypted_share: 1 }, sim: { ...scenario.sim, mls } },
      seed: 21,
    });
    expect(encrypted.summary.messages.delivered).toBeGreaterThan(0);
    // A charge of 80 ms per message (50 + 30) shows in every percentile of send→deliver.
    expect(encrypted.summary.latency_ms.deliver.p50).toBeGreaterThanOrEqual(plain.summary.latency_ms.deliver.p50 + 80 - 1);
    expect(encrypted.summary.latency_ms.ack.p50).toBeGreaterThanOrEqual(plain.summary.latency_ms.ack.p50 + 50 - 1);
  });

  it('runs a healthy world with every invariant judged, full and streaming checkers agreeing', async () => {
    const full = await runSimulation({ scenario: tinyScenario('  checker: full\n') });
    const scenario = tinyScenario();
    const streaming = await runSimulation({ scenario: { ...scenario, sim: { ...scenario.sim, checker: 'streaming' } } });
    expect(full.summary.sim).toMatchObject({ checker: 'full' });
    expect(streaming.summary.sim).toMatchObject({ checker: 'streaming' });
    expect(streaming.traceHash).toBe(full.traceHash);
    expect(streaming.summary.invariants.checked).toEqual(full.summary.invariants.checked);
    expect(streaming.summary.invariants.violations).toBe(full.summary.invariants.violations);
    expect(violationsOf(full)).toEqual([]);
    expect(full.summary.sim).toMatchObject({ liveness: { converged: true } });
    expect(full.summary.messages.delivered).toBeGreaterThan(full.summary.messages.acked);
  });

  it('catches a planted bug (one inbox write dropped) as a durability violation, reproducible from the printed seed', async () => {
    const scenario = tinyScenario();
    // With some seeds a later message of the same conversation makes the device sync from its
    // link point and fetch the lost one from the log (the repair works). Which seeds have no such
    // message shifts with any change of timing, so the first of seeds 1-16 that catches it is used
    // (several did at every change so far).
    let caught: { seed: number; dropped: unknown; messages: string[]; result: Awaited<ReturnType<typeof runSimulation>> } | undefined;
    for (let seed = 1; seed <= 16 && !caught; seed++) {
      const bug = dropOneInboxWrite(5_000);
      const result = await runSimulation({ scenario, seed, plant: bug.plant });
      const durability = result.violations.filter((v) => v.invariant === 'durability');
      if (durability.length > 0) caught = { seed, dropped: bug.dropped(), messages: durability.map((v) => v.message), result };
    }
    expect(caught).toBeDefined();
    const { seed, dropped, messages, result } = caught!;
    expect(dropped).toBeDefined();
    expect(result.exitCode).toBe(1);
    expect(result.reproduce).toContain(`--seed ${seed}`);
    // The seed reproduces it exactly: the same write is dropped, the same violation found.
    const again = dropOneInboxWrite(5_000);
    const rerun = await runSimulation({ scenario, seed, plant: again.plant });
    expect(again.dropped()).toBe(dropped);
    expect(rerun.violations.filter((v) => v.invariant === 'durability').map((v) => v.message)).toEqual(messages);
  }, 120_000);

  it('catches a planted bug (the store forgets idempotency) as a duplicate when clients retry', async () => {
    const scenario = tinyScenario(
      'faults:\n  - { kind: gateway_crash, target: gateway-1, at_s: 8, duration_s: 2 }\n  - { kind: cassandra_outage, at_s: 12, duration_s: 3 }\n',
    );
    const result = await runSimulation({ scenario, seed: 5, plant: (world) => forgetIdempotency(world) });
    expect(violationsOf(result, ['no-duplicates', 'order']).length).toBeGreaterThan(0);
    expect(result.exitCode).toBe(1);
  });

  const FAULTS: Record<string, string> = {
    gateway_crash: '{ kind: gateway_crash, target: gateway-1, at_s: 6, duration_s: 4 }',
    gateway_pause: '{ kind: gateway_pause, target: gateway-0, at_s: 6, duration_s: 3 }',
    cassandra_outage: '{ kind: cassandra_outage, at_s: 6, duration_s: 4 }',
    redis_restart: '{ kind: redis_restart, at_s: 6, duration_s: 2 }',
    network_latency: '{ kind: network_latency, target: cassandra, at_s: 6, duration_s: 4, extra_latency_ms: 300 }',
    network_partition: '{ kind: network_partition, target: redis, at_s: 6, duration_s: 3 }',
    slow_consumer: '{ kind: slow_consumer, at_s: 6, duration_s: 6, share: 0.2 }',
  };
  /**
   * Faults that make a fan-out fail after its append (Redis unreachable): the message is stored,
   * the send fails, and a later event reaches the recipient first. The simulator found that a
   * device without a cursor then started above the seq it was owed and lost it for good; it now
   * syncs from its link point first (sdk/ordering.ts), and durability is judged for every fault.
   * A Redis restart also empties presence; the gateways re-announce their sessions when Redis is
   * back (it used to take until each device's next heartbeat, up to 30 s).
   */
  const KNOWN_FINDINGS: Record<string, InvariantName[]> = {};

  it.each(FAULT_KINDS.map((kind) => [kind]))(
    'recovers from %s: everything queued reaches the online devices, nothing lost or reordered',
    async (kind) => {
      const result = await runSimulation({ scenario: tinyScenario(`faults:\n  - ${FAULTS[kind]}\n`, { durationS: 16 }) });
      expect(result.faults).toHaveLength(1);
      expect(result.faults[0]).toMatchObject({ kind, healed_s: expect.any(Number) });
      expect(result.summary.sim).toMatchObject({ liveness: { converged: true } });
      const judged = JUDGED.filter((n) => !(KNOWN_FINDINGS[kind] ?? []).includes(n));
      expect(violationsOf(result, judged)).toEqual([]);
      expect(result.summary.messages.acked).toBeGreaterThan(0);
    },
  );

  it('keeps durability through a Redis restart (it found the first-message hole: a device must not start above a seq it is owed)', async () => {
    const result = await runSimulation({ scenario: tinyScenario(`faults:\n  - ${FAULTS.redis_restart}\n`, { durationS: 16 }) });
    expect(violationsOf(result, ['durability'])).toEqual([]);
  });
});

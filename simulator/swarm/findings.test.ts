import { describe, expect, it } from 'vitest';
import { readScenario } from '../../scenarios/format/index.js';
import { CloseCodes } from '../../system/protocol/version.js';
import { Scheduler } from '../../system/adapters/virtual/scheduler.js';
import { runSimulation } from '../run-simulation.js';
import { tinyScenario } from '../testing/tiny-scenario.js';
import type { Workload } from '../workload/workload.js';
import { SimConnection, type ClientEndpoint } from '../../system/worlds/simulated/sim-connection.js';
import type { SimGateway } from '../../system/worlds/simulated/sim-gateway.js';
import type { SimWorld } from '../../system/worlds/simulated/sim-world.js';
import { seedOutcome } from './run-seed.js';
import { drawSchedule, parseFaultIndexes, parseKinds, scenarioWithSchedule, type ScheduleOptions } from './schedule.js';
import { DEFAULT_SCHEDULE_OPTIONS } from './schedule.js';

/*
 * What the seed swarm found (simulator/README.md, "Seed swarm"), each with the seed that showed it.
 * The seeds are run as the swarm runs them; a change of timing anywhere may make a seed miss its
 * case, so each finding also has a test of its own that does not depend on the seed.
 */

const SWARM_SMALL = 'scenarios/swarm-small.yaml';

async function swarmSeed(seed: number, faults?: string, options: ScheduleOptions = DEFAULT_SCHEDULE_OPTIONS) {
  const scenario = await readScenario(SWARM_SMALL);
  const drawn = drawSchedule(scenario, seed, options);
  const kept = faults !== undefined ? parseFaultIndexes(faults, drawn.length) : drawn.map((_, i) => i);
  return seedOutcome(scenario, { seed, schedule: kept.map((i) => drawn[i]!) });
}

/** Just what a SimConnection needs of its gateway: frames leave at once, the process is up. */
function instantGateway(time: Scheduler): SimGateway {
  return {
    cpu: { reserve: () => time.nowMs() },
    costs: { frameOutMs: 0 },
    framesOut: 0,
    isAlive: true,
    connectionGone: () => undefined,
  } as unknown as SimGateway;
}

describe('seed swarm findings', () => {
  it('unhandled rejection in a retried fan-out during a Redis restart (swarm-small seed 3, fault 2) — fixed in system/services/fanout.ts', async () => {
    const outcome = await swarmSeed(3, '2');
    expect(outcome.invariants).not.toContain('unhandled-rejection');
  });

  it('stale receipt watermarks: the virtual devices drop them as the SDK does (seed 3 fault 0: a paused gateway; seed 23: Redis latency; seed 16: a re-announcement after a reconnect)', async () => {
    expect((await swarmSeed(3, '0')).invariants).not.toContain('receipts');
    expect((await swarmSeed(23)).invariants).not.toContain('receipts');
    expect(
      (await swarmSeed(16, undefined, { maxFaults: 4, kinds: parseKinds('gateway_crash,cassandra_outage,redis_restart,surge') }))
        .invariants,
    ).not.toContain('receipts');

    // The rule itself is the client core's (sdk/core/client-core.test.ts, 'receipts'), which the virtual devices run.
  });

  it('a send whose seq came before the events ahead of it stays in the outbox if the session ends first (seeds 680 and 424: a Redis restart, then a Cassandra outage)', async () => {
    // Replayed from the write-ahead log, a device's logged messages came back numbered 2, 3, 4
    // before seq 1; their acks waited for seq 1, the session ended, and the sends were gone with
    // it: the checker saw messages queued that never got a seq, although they were stored.
    expect((await swarmSeed(680, '2,3')).invariants).not.toContain('durability');
    expect((await swarmSeed(424, '1,2')).invariants).not.toContain('durability');
    // The rule itself is the client core's (sdk/core/client-core.test.ts, 'saves a send whose seq came before…').
  });

  it('a queued send does not keep a conversation without a cursor from syncing (seed 1167: a Cassandra outage, then a Redis partition) — fixed in sdk/ and the virtual devices', async () => {
    // The replay of the device's logged message (seq 1) reached its connection after seq 2 had,
    // and a connection drops lower seqs; the device waited for its send's seq instead of syncing
    // from its link point, and stayed stuck (durability and liveness) until it reconnected.
    const outcome = await swarmSeed(1167, '0,1');
    expect(outcome.invariants).not.toContain('durability');
    expect(outcome.invariants).not.toContain('liveness');
  });

  it('a device takes its own message seen by sync as the answer to a send still in its outbox (seeds 2516, 3077, 5246, 7059, 8222: a Redis fault and a Cassandra outage) — fixed in sdk/ and the virtual devices', async () => {
    // Stored, but its answer lost when the fan-out failed (Redis); a sync brought the message back
    // as an ordinary delivery while the outbox kept it; the re-send, queued during the Cassandra
    // outage, waited for a copy the replay's fan-out skipped, since this device had acknowledged
    // that seq: unacknowledged for good (durability and liveness).
    const outcome = await swarmSeed(2516, '0,1');
    expect(outcome.invariants).not.toContain('durability');
    expect(outcome.invariants).not.toContain('liveness');
  });

  it('a slow_consumer fault heals every device it slowed, also those that came online while it lasted (seed 49, faults 0-2, showed a reader still slow seconds later)', async () => {
    expect((await swarmSeed(49, '0,1,2')).invariants).not.toContain('presence');
    let slowAfterHealing: number | undefined;
    let slowDuring = 0;
    const scenario = tinyScenario('faults:\n  - { kind: slow_consumer, at_s: 2, duration_s: 4, share: 0.5 }\n', { durationS: 10 });
    const probe = (_world: SimWorld, workload: Workload) => {
      const count = () => workload.live.filter((vd) => vd !== undefined && vd.slowReadBytesPerS > 0).length;
      workload.time.schedule(5_500, () => void (slowDuring = count()));
      workload.time.schedule(7_000, () => void (slowAfterHealing = count()));
    };
    await runSimulation({ scenario, seed: 4, plant: probe });
    expect(slowDuring).toBeGreaterThan(0);
    expect(slowAfterHealing).toBe(0);
  });

  it('a reader that stops being slow reads its backlog at once, and its frames stay in order (TCP)', async () => {
    // The backlog of a healed slow reader used to drain at the slow rate: watchers saw presence
    // changes seconds late after the fault had healed (seed 111, faults 0 and 2).
    expect((await swarmSeed(111, '0,2')).invariants).not.toContain('presence');
    const time = new Scheduler();
    const gateway = instantGateway(time);
    const read: string[] = [];
    const client: ClientEndpoint = {
      onFrame: (frame) => void read.push(`${(frame as { serverTimeMs: number }).serverTimeMs}@${time.nowMs()}`),
      onClosed: () => undefined,
    };
    const connection = new SimConnection('c1', gateway, time, { oneWayMs: () => 10 }, client);
    connection.readBytesPerS = 2_000; // 120-byte frames: 60 ms each
    for (const n of [1, 2, 3]) connection.send({ type: 'heartbeat_ack', serverTimeMs: n });
    time.schedule(80, () => {
      connection.readBytesPerS = 0;
      connection.send({ type: 'heartbeat_ack', serverTimeMs: 4 });
    });
    await time.run(1_000);
    expect(read).toEqual(['1@70', '2@80', '3@80', '4@90']);
  });

  it('a slow reader reads a close after the frames sent before it (the terminated socket of a slow consumer drops them)', async () => {
    // The close used to overtake a slow reader's unread frames: a device whose auth met a store
    // outage saw the close before the error frame that said "retry", and gave up for good
    // (seed 437: a Cassandra outage, then slow consumers; liveness).
    expect((await swarmSeed(437)).invariants).not.toContain('liveness');
    const time = new Scheduler();
    const gateway = instantGateway(time);
    const seen = (code: number): string[] => {
      const log: string[] = [];
      const client: ClientEndpoint = {
        onFrame: (frame) => void log.push(`frame ${(frame as { serverTimeMs: number }).serverTimeMs}@${time.nowMs()}`),
        onClosed: (closeCode) => void log.push(`close ${closeCode}@${time.nowMs()}`),
      };
      const connection = new SimConnection('c1', gateway, time, { oneWayMs: () => 10 }, client);
      connection.session = { handleWritable: () => undefined } as unknown as SimConnection['session'];
      connection.readBytesPerS = 2_000; // 120-byte frames: 60 ms each
      for (const n of [1, 2]) connection.send({ type: 'heartbeat_ack', serverTimeMs: n });
      connection.close(code, 'bye');
      return log;
    };
    expect(seen(CloseCodes.GOING_AWAY)).toEqual([]);
    await time.run(1_000);
    const afterClose = seen(CloseCodes.GOING_AWAY);
    await time.run(2_000);
    expect(afterClose).toEqual(['frame 1@1070', 'frame 2@1130', 'close 1001@1130']);
    const terminated = seen(CloseCodes.SLOW_CONSUMER);
    await time.run(3_000);
    expect(terminated).toEqual(['close 4003@2010']);
  });

  // The second sitting's findings (simulator/README.md, 9-18), each by the seed that showed it and
  // the invariant it broke. Each also has a test of its own beside its fix.
  it.each([
    [89, 'liveness', 'a conversation waited for a queued send answered after it (sdk/client.test.ts)'],
    [579, 'durability', 'the same, another seed'],
    [714, 'receipts', 'a receipt before the welcome (system/gateway/session.test.ts)'],
    [760, 'receipts', 'the same, another seed'],
    [585, 'order', 'a later send numbered before a queued one after moving gateway (sdk/client.test.ts)'],
    [359, 'presence', 'shown online although the welcome never reached the client (presence-service.test.ts)'],
    [232, 'presence', "an old connection's close removed the live connection's presence (presence-service.test.ts)"],
    [336, 'presence', "a watch's first state while Redis's entries were put back (presence-service.test.ts)"],
    [1789, 'presence', 'the first frame after the welcome lost in a partition (checker: welcomed and connect)'],
    [679, 'presence', 'the first frame after the welcome held by a paused gateway (the same)'],
    [1027, 'presence', 'a gateway started just after a Redis restart (the uptime hold)'],
    [8083, 'presence', 'two overlapping pauses of one gateway (gateway-cpu.test.ts)'],
    [733, 'presence', 'a paused gateway told watchers the changes it slept through (rereading-presence-watches.test.ts)'],
    [956, 'presence', "+2.5 s on the clients' links, more than the 2 s grace (presence-grace.test.ts)"],
  ] as Array<[number, string, string]>)('seed %i no longer breaks %s: %s', async (seed, invariant) => {
    expect((await swarmSeed(seed)).invariants).not.toContain(invariant);
  });

  it('overlapping faults on one target: the target stays faulty until the last of them heals', async () => {
    const scenario = tinyScenario(
      'faults:\n' +
        '  - { kind: cassandra_outage, at_s: 2, duration_s: 2 }\n' +
        '  - { kind: cassandra_outage, at_s: 3, duration_s: 3 }\n' +
        '  - { kind: gateway_crash, target: gateway-1, at_s: 2, duration_s: 4 }\n' +
        '  - { kind: gateway_crash, target: gateway-1, at_s: 3, duration_s: 1 }\n',
      { durationS: 10 },
    );
    const seen: string[] = [];
    const probe = (world: SimWorld, workload: Workload) => {
      for (const atS of [4.5, 5.5, 6.5]) {
        workload.time.schedule(
          atS * 1000,
          () =>
            void seen.push(
              `${atS}: cassandra ${world.tiers.cassandra.isAvailable ? 'up' : 'down'}, gateway-1 ${world.gateways[1]!.isAlive ? 'up' : 'down'}`,
            ),
        );
      }
    };
    const result = await runSimulation({ scenario, seed: 2, plant: probe });
    expect(seen).toEqual(['4.5: cassandra down, gateway-1 down', '5.5: cassandra down, gateway-1 down', '6.5: cassandra up, gateway-1 up']);
    expect(result.summary.sim).toMatchObject({ liveness: { converged: true } });
  });

  it('the schedule a swarm seed runs is what npm run sim would run from the same faults written in the scenario', async () => {
    const scenario = await readScenario(SWARM_SMALL);
    const schedule = drawSchedule(scenario, 7);
    const viaSwarm = await seedOutcome(scenario, { seed: 7, schedule });
    const written = await runSimulation({ scenario: scenarioWithSchedule(scenario, schedule), seed: 7 });
    expect(viaSwarm.traceHash).toBe(written.traceHash);
  });
});

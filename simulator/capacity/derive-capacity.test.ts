import { describe, expect, it } from 'vitest';
import { parseScenario, readScenario, type Scenario, type ScenarioInput } from '../../scenarios/format/index.js';
import { DEFAULT_CAPACITY_ASSUMPTIONS, DESIGN_CARD_ASSUMPTIONS, type CapacityAssumptions } from './capacity-assumptions.js';
import { CapacityErrorCodes } from './capacity-error-codes.js';
import { compareCapacity } from './compare-capacity.js';
import { deriveCapacity, scenarioPeakMultiplier } from './derive-capacity.js';
import { DESIGN_CARD_FIGURES, DESIGN_CARD_TOLERANCE } from './design-card.js';
import { ToolError } from '../../cli/tool-error.js';

/** The design card's inputs, written out here so the test does not depend on the shipped file. */
const seedInput: ScenarioInput = {
  name: 'seed-inline',
  duration_s: 60,
  population: { users: 2_000_000_000, devices_per_user: [1], online_share: 0.25 },
  traffic: { messages_per_user_per_day: 50, message_bytes: { kind: 'constant', value: 100 } },
};

function scenario(
  overrides: {
    population?: Partial<ScenarioInput['population']>;
    traffic?: Partial<ScenarioInput['traffic']>;
    groups?: ScenarioInput['groups'];
  } = {},
): Scenario {
  return parseScenario(
    {
      ...seedInput,
      population: { ...seedInput.population, ...overrides.population },
      traffic: { ...seedInput.traffic, ...overrides.traffic },
      ...(overrides.groups ? { groups: overrides.groups } : {}),
    },
    'test',
  );
}

function capacityErrorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof ToolError ? error.code : `not a ToolError: ${String(error)}`;
  }
  return undefined;
}

const within = (actual: number, expected: number, tolerance: number) => Math.abs(actual - expected) / expected <= tolerance;

describe('deriveCapacity', () => {
  it("reproduces the design card's table from the card's inputs and assumptions", () => {
    const plan = deriveCapacity(scenario(), DESIGN_CARD_ASSUMPTIONS);
    expect(plan.traffic.messagesPerSAverage).toBeCloseTo(100e9 / 86_400, 3);
    expect(within(plan.traffic.messagesPerSPeak, DESIGN_CARD_FIGURES.messagesPerS, DESIGN_CARD_TOLERANCE)).toBe(true);
    expect(plan.connections.concurrent).toBe(DESIGN_CARD_FIGURES.concurrentConnections);
    expect(plan.storage.textBytesPerDay).toBe(DESIGN_CARD_FIGURES.textBytesPerDay);
    expect(plan.gateway.count).toBe(DESIGN_CARD_FIGURES.websocketServers);
    expect(plan.gateway.boundBy).toBe('connections');
  });

  it('reproduces the card from the shipped seed-capacity scenario, in every row the card has', async () => {
    const comparison = compareCapacity(await readScenario('scenarios/seed-capacity.yaml'));
    const carded = comparison.rows.filter((r) => r.designCard !== null);
    expect(carded.map((r) => r.figure)).toEqual([
      'messages/s (daily mean)',
      'concurrent connections',
      'text bytes/day (one copy)',
      'WebSocket servers',
    ]);
    for (const row of carded) expect(within(row.cardAssumptions, row.designCard!, DESIGN_CARD_TOLERANCE), row.figure).toBe(true);
    expect(comparison.plans.measured).toBeNull();
  });

  it('doubling users doubles connections, messages and WebSocket servers', () => {
    for (const assumptions of [DESIGN_CARD_ASSUMPTIONS, DEFAULT_CAPACITY_ASSUMPTIONS]) {
      const one = deriveCapacity(scenario(), assumptions);
      const two = deriveCapacity(scenario({ population: { users: 4_000_000_000 } }), assumptions);
      expect(two.connections.concurrent).toBe(2 * one.connections.concurrent);
      expect(two.traffic.messagesPerSPeak).toBeCloseTo(2 * one.traffic.messagesPerSPeak, 3);
      expect(two.gateway.count).toBe(2 * one.gateway.count);
    }
  });

  it('group fan-out raises inbox writes and inbox bytes', () => {
    const oneToOne = deriveCapacity(scenario({ traffic: { group_share: 0 } }), DEFAULT_CAPACITY_ASSUMPTIONS);
    const groups = deriveCapacity(scenario({ traffic: { group_share: 0.5 } }), DEFAULT_CAPACITY_ASSUMPTIONS);
    expect(oneToOne.traffic.recipientDevicesPerMessage).toBe(1);
    expect(oneToOne.cassandra.writesPerMessage.inbox).toBe(2);
    expect(groups.cassandra.writesPerMessage.inbox).toBeGreaterThan(oneToOne.cassandra.writesPerMessage.inbox * 5);
    expect(groups.storage.inboxBytesWrittenPerDay).toBeGreaterThan(oneToOne.storage.inboxBytesWrittenPerDay * 5);
    expect(groups.cassandra.count).toBeGreaterThan(oneToOne.cassandra.count);
    // The message log holds one copy whatever the fan-out.
    expect(groups.storage.messageLogBytesPerDay).toBe(oneToOne.storage.messageLogBytesPerDay);
    // A hot 256-member group taking half of the group traffic raises it further.
    const hot = deriveCapacity(
      scenario({ traffic: { group_share: 0.5 }, groups: { hot: [{ size: 256, traffic_share: 0.5 }] } }),
      DEFAULT_CAPACITY_ASSUMPTIONS,
    );
    expect(hot.inputs.groupMembersMean).toBeCloseTo(0.5 * 256 + 0.5 * groups.inputs.groupMembersMean, 6);
    expect(hot.cassandra.writesPerMessage.inbox).toBeGreaterThan(groups.cassandra.writesPerMessage.inbox);
  });

  it('extra devices per user get copies too (multi-device sync)', () => {
    const plan = deriveCapacity(
      scenario({ population: { devices_per_user: [0, 1] }, traffic: { group_share: 0 } }),
      DEFAULT_CAPACITY_ASSUMPTIONS,
    );
    // Both of the recipient's devices and the sender's other device.
    expect(plan.traffic.recipientDevicesPerMessage).toBe(3);
    expect(plan.connections.concurrent).toBe(1_000_000_000);
  });

  it('applies headroom to every tier', () => {
    const base: CapacityAssumptions = { ...DEFAULT_CAPACITY_ASSUMPTIONS, headroom: 1 };
    const plain = deriveCapacity(scenario(), base);
    const spare = deriveCapacity(scenario(), { ...base, headroom: 1.5 });
    expect(plain.gateway.count).toBe(50_000);
    expect(spare.gateway.count).toBe(75_000);
    for (const tier of ['cassandra', 'redis'] as const) {
      expect(spare[tier].count).toBe(Math.ceil(Math.max(...Object.values(plain[tier].byLimit)) * 1.5 - 1e-9));
    }
  });

  it('sizes for the peak: the rate curve, spikes and peakToAverage multiply', () => {
    const spiky = scenario({
      traffic: {
        rate_curve: [
          { at_s: 0, multiplier: 0.5 },
          { at_s: 30, multiplier: 1.5 },
          { at_s: 60, multiplier: 1 },
        ],
        spikes: [{ at_s: 40, duration_s: 5, multiplier: 3 }],
      },
    });
    // At 40 s the curve is 1.5 - (10/30)·0.5 = 1.333…, times the ×3 spike = 4.
    expect(scenarioPeakMultiplier(spiky)).toBeCloseTo(4, 9);
    const plan = deriveCapacity(spiky, { ...DEFAULT_CAPACITY_ASSUMPTIONS, peakToAverage: 2 });
    expect(plan.traffic.messagesPerSPeak).toBeCloseTo(plan.traffic.messagesPerSAverage * 8, 3);
    expect(scenarioPeakMultiplier(scenario())).toBe(1);
  });

  it('measured per-node capacity changes the plan in its own column', () => {
    const slowGateways = compareCapacity(scenario(), {
      measured: { source: 'sim run 42', framesPerGatewayPerS: 500, cassandraWritesPerNodePerS: 40_000 },
    });
    const servers = slowGateways.rows.find((r) => r.figure === 'WebSocket servers')!;
    expect(servers.measured).toBeGreaterThan(servers.defaults);
    expect(servers.boundBy?.[2]).toBe('frames');
    const nodes = slowGateways.rows.find((r) => r.figure === 'Cassandra nodes')!;
    expect(nodes.measured).toBeLessThan(nodes.defaults);
    expect(slowGateways.measuredSource).toBe('sim run 42');
  });

  it('rejects unusable assumptions and scenarios with a clear error', () => {
    const s = scenario();
    const bad = (patch: Partial<CapacityAssumptions>) =>
      capacityErrorCode(() => deriveCapacity(s, { ...DEFAULT_CAPACITY_ASSUMPTIONS, ...patch }));
    expect(bad({ connectionsPerGateway: 0 })).toBe(CapacityErrorCodes.BAD_ASSUMPTION);
    expect(bad({ cassandraWritesPerNodePerS: -1 })).toBe(CapacityErrorCodes.BAD_ASSUMPTION);
    expect(bad({ redisOpsPerShardPerS: Number.NaN })).toBe(CapacityErrorCodes.BAD_ASSUMPTION);
    expect(bad({ headroom: 0.8 })).toBe(CapacityErrorCodes.BAD_ASSUMPTION);
    expect(bad({ replicationFactor: 2.5 })).toBe(CapacityErrorCodes.BAD_ASSUMPTION);
    expect(bad({ peakToAverage: 0.5 })).toBe(CapacityErrorCodes.BAD_ASSUMPTION);
    expect(() => deriveCapacity(s, { ...DEFAULT_CAPACITY_ASSUMPTIONS, connectionsPerGateway: 0 })).toThrow(
      /connectionsPerGateway must be a positive number/,
    );
    const overShared = scenario({
      groups: {
        hot: [
          { size: 10, traffic_share: 0.7 },
          { size: 20, traffic_share: 0.6 },
        ],
      },
    });
    expect(capacityErrorCode(() => deriveCapacity(overShared, DEFAULT_CAPACITY_ASSUMPTIONS))).toBe(CapacityErrorCodes.BAD_SCENARIO);
  });
});

import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ChaosErrorCodes } from '../error-codes.js';
import { parseDrillText, readDrill } from './read-drill.js';
import { DRILL_JSON_SCHEMA_PATH, drillJsonSchemaText } from './write-json-schema.js';
import type { ToolError } from '../../cli/tool-error.js';

const chaosDir = fileURLToPath(new URL('..', import.meta.url));
/** Drill text is parsed as if it lived in chaos/, so the scenario path resolves like a shipped drill's. */
const source = `${chaosDir}test-drill.yaml`;

const minimal = `
name: tiny
scenario: ../scenarios/chaos-steady.yaml
overrides: { duration_s: 30 }
topology: { gateways: 2 }
faults:
  - { kind: gateway_crash, target: gateway-1, at_s: 10, duration_s: 5 }
`;

async function errorOf(text: string, at = source): Promise<ToolError> {
  try {
    await parseDrillText(text, at);
  } catch (error) {
    return error as ToolError;
  }
  throw new Error('expected the drill to be rejected');
}

describe('drill format', () => {
  it('the shipped JSON schema is the one generated from the zod schema (run npm run chaos:schema)', async () => {
    expect(await readFile(DRILL_JSON_SCHEMA_PATH, 'utf8')).toBe(drillJsonSchemaText());
  });

  it('every shipped drill validates and is named after its file', async () => {
    const shipped = (await readdir(chaosDir)).filter((f) => f.endsWith('.yaml')).map((f) => `${chaosDir}${f}`);
    const ci = (await readdir(`${chaosDir}ci`)).filter((f) => f.endsWith('.yaml')).map((f) => `${chaosDir}ci/${f}`);
    expect(shipped.map((f) => f.slice(chaosDir.length)).sort()).toEqual([
      'cassandra-outage-30s.yaml',
      'game-day.yaml',
      'gateway-kill.yaml',
      'network-latency-500ms.yaml',
      'overload-3x.yaml',
      'overload-embedded.yaml',
      'redis-restart.yaml',
    ]);
    for (const file of [...shipped, ...ci]) {
      const drill = await readDrill(file);
      expect(file.endsWith(`/${drill.name}.yaml`)).toBe(true);
      expect(drill.faults.length + drill.surges.length).toBeGreaterThan(0);
    }
  });

  it('applies the overrides to the scenario, clears its faults and resolves defaults', async () => {
    const drill = await parseDrillText(
      minimal.replace('duration_s: 30', 'duration_s: 30, messages_per_s: 7, users: 40, liveness_bound_s: 9, warmup_s: 4'),
      source,
    );
    expect(drill.scenario.warmup_s).toBe(4);
    expect(drill.scenario.duration_s).toBe(30);
    expect(drill.scenario.traffic.messages_per_s).toBe(7);
    expect(drill.scenario.population.users).toBe(40);
    expect(drill.scenario.liveness_bound_s).toBe(9);
    expect(drill.scenario.faults).toEqual([]);
    expect(drill.scenario.topology.gateways).toBe(2);
    expect(drill.topology).toMatchObject({ gateways: 2, cassandra: 'shared', redis: 'private' });
    expect(drill.steadyState.deliver_p99_ms).toBe(drill.scenario.slo.deliver_p99_ms);
    expect(drill.recovery.deliver_p99_ms).toBe(drill.steadyState.deliver_p99_ms);
    expect(drill.abort.max_duration_s).toBe(3 * (30 + 9));
  });

  it('adds surges to the scenario as spikes and keeps them to be judged; a drill may have surges only', async () => {
    const text = minimal.replace(
      /faults:[\s\S]*$/,
      'surges:\n  - { at_s: 10, duration_s: 5, multiplier: 3 }\nmemory: { gateway_peak_rss_mb_max: 512 }\n',
    );
    const drill = await parseDrillText(text, source);
    expect(drill.faults).toEqual([]);
    expect(drill.surges).toEqual([{ at_s: 10, duration_s: 5, multiplier: 3 }]);
    expect(drill.scenario.traffic.spikes).toContainEqual({ at_s: 10, duration_s: 5, multiplier: 3 });
    expect(drill.memory).toEqual({ gateway_peak_rss_mb_max: 512 });
  });

  it('runs the embedded world on one gateway', async () => {
    const drill = await parseDrillText(
      minimal.replace('topology: { gateways: 2 }', 'topology: { world: embedded }').replace('target: gateway-1', 'target: gateway-0'),
      source,
    );
    expect(drill.gateways).toBe(1);
    expect(drill.topology.world).toBe('embedded');
  });

  it('fills a fault’s default target from the shared vocabulary', async () => {
    const drill = await parseDrillText(
      minimal.replace(
        '{ kind: gateway_crash, target: gateway-1, at_s: 10, duration_s: 5 }',
        '{ kind: cassandra_outage, at_s: 10, duration_s: 5 }',
      ),
      source,
    );
    expect(drill.faults[0]!.target).toBe('cassandra');
  });

  it.each([
    ['an unknown key', `${minimal}speed: 3\n`, 'speed'],
    ['no faults and no surge', minimal.replace(/faults:[\s\S]*$/, 'faults: []\n'), 'at least one fault or one surge'],
    [
      'a surge ending too late to see recovery',
      `${minimal}surges: [{ at_s: 10, duration_s: 18, multiplier: 3 }]\n`,
      'surges.0: ends at 28 s',
    ],
    ['a surge before any steady state', `${minimal}surges: [{ at_s: 1, duration_s: 5, multiplier: 3 }]\n`, 'surges.0.at_s'],
    ['a surge that lowers the load', `${minimal}surges: [{ at_s: 10, duration_s: 5, multiplier: 0.5 }]\n`, 'multiplier'],
    [
      'a backend fault in the embedded world',
      minimal
        .replace('topology: { gateways: 2 }', 'topology: { world: embedded }')
        .replace('kind: gateway_crash, target: gateway-1', 'kind: cassandra_outage'),
      'the embedded world has none',
    ],
    [
      'several gateways in the embedded world',
      minimal.replace('topology: { gateways: 2 }', 'topology: { world: embedded, gateways: 2 }'),
      'one gateway process',
    ],
    [
      'a slow_consumer fault',
      minimal.replace('kind: gateway_crash, target: gateway-1', 'kind: slow_consumer, share: 0.1'),
      'client behaviour',
    ],
    [
      'a kind hitting the wrong tier',
      minimal.replace('kind: gateway_crash, target: gateway-1', 'kind: cassandra_outage, target: redis'),
      'cannot hit redis',
    ],
    [
      'latency without its delay',
      minimal.replace('kind: gateway_crash, target: gateway-1', 'kind: network_latency, target: cassandra'),
      'extra_latency_ms',
    ],
    [
      'a partition mode on another kind',
      minimal.replace('duration_s: 5 }', 'duration_s: 5, mode: reset }'),
      'mode belongs to network_partition',
    ],
    ['a gateway the topology does not have', minimal.replace('target: gateway-1', 'target: gateway-2'), 'gateway-2 does not exist'],
    ['a heal too late to see recovery', minimal.replace('at_s: 10, duration_s: 5', 'at_s: 10, duration_s: 18'), 'heals at 28 s'],
    ['a fault before any steady state', minimal.replace('at_s: 10', 'at_s: 2'), 'no pre-fault steady state'],
    [
      'a restart of the shared Redis',
      minimal
        .replace('topology: { gateways: 2 }', 'topology: { gateways: 2, redis: shared }')
        .replace('kind: gateway_crash, target: gateway-1', 'kind: redis_restart'),
      'redis_restart needs topology.redis: private',
    ],
    [
      'a crash left down with one gateway',
      minimal
        .replace('gateways: 2', 'gateways: 1')
        .replace('target: gateway-1, at_s: 10, duration_s: 5', 'target: gateway-0, at_s: 10, duration_s: 0'),
      'at least 2 gateways',
    ],
    ['overrides that break the scenario', minimal.replace('duration_s: 30', 'duration_s: -1'), 'duration_s'],
  ])('rejects %s with DRILL_INVALID naming the problem', async (_what, text, expected) => {
    const error = await errorOf(text);
    expect(error.code).toBe(ChaosErrorCodes.DRILL_INVALID);
    expect(error.message).toContain(expected);
  });

  it('says when the file is not YAML, cannot be read, or its scenario is missing', async () => {
    expect((await errorOf('name: [unclosed')).code).toBe(ChaosErrorCodes.DRILL_NOT_YAML);
    const missingScenario = await errorOf(minimal.replace('chaos-steady.yaml', 'nope.yaml'));
    expect(missingScenario.code).toBe(ChaosErrorCodes.DRILL_INVALID);
    expect(missingScenario.message).toContain('nope.yaml');
    await expect(readDrill(`${chaosDir}does-not-exist.yaml`)).rejects.toMatchObject({ code: ChaosErrorCodes.DRILL_UNREADABLE });
  });
});

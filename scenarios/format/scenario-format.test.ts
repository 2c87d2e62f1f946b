import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ScenarioErrorCodes,
  baseMessagesPerS,
  meanOf,
  messagesPerSAt,
  parseScenarioText,
  readScenario,
  type ScenarioError,
} from './index.js';
import { SCENARIO_JSON_SCHEMA_PATH, scenarioJsonSchemaText } from './write-json-schema.js';

const scenariosDir = fileURLToPath(new URL('..', import.meta.url));

const minimal = `
name: tiny
duration_s: 10
population: { users: 10 }
traffic: { messages_per_s: 5 }
`;

function errorOf(text: string): ScenarioError {
  try {
    parseScenarioText(text, 'test.yaml');
  } catch (error) {
    return error as ScenarioError;
  }
  throw new Error('expected the scenario to be rejected');
}

describe('scenario format', () => {
  it('the shipped JSON schema is the one generated from the zod schema (run npm run scenarios:schema)', async () => {
    expect(await readFile(SCENARIO_JSON_SCHEMA_PATH, 'utf8')).toBe(scenarioJsonSchemaText());
  });

  it('every shipped scenario validates', async () => {
    const files = (await readdir(scenariosDir)).filter((f) => f.endsWith('.yaml'));
    expect(files).toContain('smoke.yaml');
    for (const file of files) {
      const scenario = await readScenario(`${scenariosDir}/${file}`);
      expect(`${scenario.name}.yaml`).toBe(file);
    }
  });

  it('fills defaults for what a file leaves out', () => {
    const s = parseScenarioText(minimal, 'tiny.yaml');
    expect(s.population.devices_per_user).toEqual([1]);
    expect(s.population.online_share).toBe(0.25);
    expect(s.slo.deliver_p99_ms).toBe(200);
    expect(s.topology.gateways).toBe(1);
    expect(s.faults).toEqual([]);
  });

  it.each([
    ['an unknown key', `${minimal}\nspeed: 3\n`, 'speed'],
    ['both rate forms', minimal.replace('messages_per_s: 5', 'messages_per_s: 5, messages_per_user_per_day: 50'), 'exactly one'],
    ['device shares not summing to 1', minimal.replace('users: 10', 'users: 10, devices_per_user: [0.5, 0.2]'), 'sum to 0.7'],
    ['a fault after the end', `${minimal}faults: [{ kind: cassandra_outage, at_s: 20, duration_s: 5 }]\n`, 'after the run ends'],
    [
      'a gateway that does not exist',
      `${minimal}faults: [{ kind: gateway_crash, target: gateway-3, at_s: 1, duration_s: 5 }]\n`,
      'gateway-3 does not exist',
    ],
    ['a latency fault without its delay', `${minimal}faults: [{ kind: network_latency, at_s: 1, duration_s: 5 }]\n`, 'extra_latency_ms'],
    ['an unknown fault kind', `${minimal}faults: [{ kind: meteor, at_s: 1, duration_s: 5 }]\n`, 'faults.0.kind'],
  ])('rejects %s with the field named', (_name, text, expected) => {
    const error = errorOf(text);
    expect(error.code).toBe(ScenarioErrorCodes.INVALID);
    expect(error.message).toContain(expected);
  });

  it('rejects text that is not YAML and a file that does not exist, each with its own code', async () => {
    expect(errorOf('name: [unclosed').code).toBe(ScenarioErrorCodes.NOT_YAML);
    await expect(readScenario(`${scenariosDir}/no-such.yaml`)).rejects.toMatchObject({ code: ScenarioErrorCodes.UNREADABLE });
  });

  it('derives the send rate from per-user rates, the curve and spikes', () => {
    const s = parseScenarioText(
      `name: curve
duration_s: 100
population: { users: 86400 }
traffic:
  messages_per_user_per_day: 10
  rate_curve: [{ at_s: 0, multiplier: 1 }, { at_s: 50, multiplier: 3 }]
  spikes: [{ at_s: 60, duration_s: 10, multiplier: 2 }]
`,
      'curve.yaml',
    );
    expect(baseMessagesPerS(s)).toBe(10);
    expect(messagesPerSAt(s, 25)).toBeCloseTo(20);
    expect(messagesPerSAt(s, 65)).toBeCloseTo(60);
    expect(messagesPerSAt(s, 80)).toBeCloseTo(30);
  });

  it('gives the means capacity sums use', () => {
    expect(meanOf({ kind: 'exponential', mean: 7 })).toBe(7);
    expect(meanOf({ kind: 'pareto', alpha: 2, min: 1 })).toBe(2);
    const zipf = meanOf({ kind: 'zipf', exponent: 1.1, min: 3, max: 256 });
    expect(zipf).toBeGreaterThan(3);
    expect(zipf).toBeLessThan(60);
  });
});

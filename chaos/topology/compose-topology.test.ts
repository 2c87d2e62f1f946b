import { describe, expect, it } from 'vitest';
import type { ResolvedFault } from '../format/read-drill.js';
import { faultAction } from '../faults/fault-injector.js';
import { ChaosErrorCodes } from '../error-codes.js';
import { composeCommand, composeTopology } from './compose-topology.js';

/** The compose target is untested against a real engine here: these tests pin the command lines. */
function recordingTopology(
  options: Parameters<typeof composeTopology>[0] = { gateways: 3, project: 'staging', file: 'docker-compose.yml' },
) {
  const commands: string[] = [];
  const topology = composeTopology(options, async (argv) => void commands.push(argv.join(' ')));
  return { topology, commands };
}

describe('compose target', () => {
  it('builds docker compose command lines with the project and file', () => {
    expect(composeCommand({ project: 'p', file: 'f.yml' }, 'pause', 'gateway-1')).toEqual([
      'docker',
      'compose',
      '-p',
      'p',
      '-f',
      'f.yml',
      'pause',
      'gateway-1',
    ]);
    expect(composeCommand({}, 'kill', 'redis')).toEqual(['docker', 'compose', 'kill', 'redis']);
  });

  it('maps every fault to docker commands on the right service', async () => {
    const { topology, commands } = recordingTopology();
    const faults: ResolvedFault[] = [
      { kind: 'gateway_crash', target: 'gateway-0', at_s: 1, duration_s: 5 },
      { kind: 'gateway_pause', target: 'gateway-2', at_s: 1, duration_s: 5 },
      { kind: 'cassandra_outage', target: 'cassandra', at_s: 1, duration_s: 5 },
      { kind: 'redis_restart', target: 'redis', at_s: 1, duration_s: 5 },
    ];
    for (const f of faults) {
      const action = faultAction(f, topology);
      await action.inject();
      await action.heal!();
    }
    const prefix = 'docker compose -p staging -f docker-compose.yml';
    expect(commands).toEqual([
      `${prefix} kill -s SIGKILL gateway-1`,
      `${prefix} up -d --wait gateway-1`,
      `${prefix} pause gateway-3`,
      `${prefix} unpause gateway-3`,
      `${prefix} stop cassandra`,
      `${prefix} up -d --wait cassandra`,
      `${prefix} kill -s SIGKILL redis`,
      `${prefix} up -d --wait redis`,
    ]);
  });

  it('targets the published gateway ports and refuses network faults (no proxy in the compose file)', () => {
    const { topology } = recordingTopology({ gateways: 2 });
    expect(topology.targets).toEqual(['ws://127.0.0.1:8081/ws', 'ws://127.0.0.1:8082/ws']);
    expect(topology.tokenSecret).toBe('compose-development-secret');
    expect(() =>
      faultAction({ kind: 'network_latency', target: 'cassandra', at_s: 1, duration_s: 1, extra_latency_ms: 100 }, topology),
    ).toThrow(expect.objectContaining({ code: ChaosErrorCodes.FAULT_NOT_INJECTABLE }));
  });

  it('says when the drill needs more gateways than URLs were given', () => {
    expect(() => composeTopology({ gateways: 3, targets: ['ws://127.0.0.1:9000/ws'] }, async () => {})).toThrow(/needs 3 gateway/);
  });
});

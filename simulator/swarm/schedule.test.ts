import { describe, expect, it } from 'vitest';
import { faultTarget, scenarioSchema } from '../../scenarios/format/index.js';
import { tinyScenario } from '../testing/tiny-scenario.js';
import {
  DEFAULT_MAX_FAULTS,
  SWARM_KINDS,
  drawSchedule,
  formatFault,
  parseFaultIndexes,
  parseKinds,
  scenarioWithSchedule,
  scheduleAsYaml,
} from './schedule.js';
import { hasOverlap } from './swarm.js';

const scenario = tinyScenario('', { durationS: 10, gateways: 3 });

describe('seed swarm schedules', () => {
  it('the same seed draws the same schedule; other seeds draw others', () => {
    for (let seed = 1; seed <= 50; seed++) expect(drawSchedule(scenario, seed)).toEqual(drawSchedule(scenario, seed));
    const distinct = new Set(Array.from({ length: 50 }, (_, i) => JSON.stringify(drawSchedule(scenario, i + 1))));
    expect(distinct.size).toBe(50);
  });

  it('draws 1 to max faults per seed, every kind, within the load, on targets the topology has, including overlapping combinations', () => {
    const counts = new Set<number>();
    const kinds = new Set<string>();
    let overlapping = 0;
    let staysDown = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const schedule = drawSchedule(scenario, seed);
      counts.add(schedule.length);
      if (hasOverlap(schedule, scenario.duration_s)) overlapping++;
      for (const f of schedule) {
        kinds.add(f.kind);
        expect(f.at_s).toBeGreaterThanOrEqual(0);
        expect(f.at_s).toBeLessThan(scenario.duration_s);
        if (f.kind === 'surge') {
          expect(f.multiplier).toBeGreaterThan(1);
          continue;
        }
        expect(faultTarget.safeParse(f.target).success, f.target).toBe(true);
        const gateway = /^gateway-(\d+)$/.exec(f.target);
        if (gateway) expect(Number(gateway[1])).toBeLessThan(3);
        if (f.kind === 'gateway_crash' && f.duration_s === 0) staysDown++;
        else expect(f.duration_s).toBeGreaterThan(0);
      }
      // The schedule, applied, is a valid scenario (what npm run sim would accept).
      expect(() => scenarioSchema.parse(scenarioWithSchedule(scenario, schedule))).not.toThrow();
    }
    expect([...counts].sort()).toEqual(Array.from({ length: DEFAULT_MAX_FAULTS }, (_, i) => i + 1));
    expect([...kinds].sort()).toEqual([...SWARM_KINDS].sort());
    expect(overlapping).toBeGreaterThan(100);
    expect(staysDown).toBeGreaterThan(0);
  });

  it('draws only the kinds asked for, and the scenario’s own faults come first in every schedule', () => {
    const kinds = parseKinds('gateway_crash,cassandra_outage');
    for (let seed = 1; seed <= 50; seed++) {
      for (const f of drawSchedule(scenario, seed, { maxFaults: 2, kinds })) expect(kinds).toContain(f.kind);
    }
    const pinned = tinyScenario('faults:\n  - { kind: redis_restart, at_s: 0, duration_s: 2 }\n', { durationS: 10 });
    for (let seed = 1; seed <= 20; seed++)
      expect(drawSchedule(pinned, seed)[0]).toEqual({ kind: 'redis_restart', target: 'redis', at_s: 0, duration_s: 2 });
    expect(() => parseKinds('gateway_crash,meteor')).toThrow('meteor');
  });

  it('runs a schedule as the scenario’s faults and its surges as spikes, with nothing drawn on top', () => {
    const drawing = { ...scenario, random_faults: { per_hour: 3600, kinds: ['gateway_crash' as const], duration_s: 5 } };
    const run = scenarioWithSchedule(drawing, [
      { kind: 'cassandra_outage', target: 'cassandra', at_s: 2, duration_s: 3 },
      { kind: 'surge', target: 'traffic', at_s: 4, duration_s: 2, multiplier: 3 },
    ]);
    expect(run.random_faults).toBeUndefined();
    expect(run.faults).toEqual([{ kind: 'cassandra_outage', target: 'cassandra', at_s: 2, duration_s: 3 }]);
    expect(run.traffic.spikes).toEqual([{ at_s: 4, duration_s: 2, multiplier: 3 }]);
    expect(formatFault({ kind: 'gateway_crash', target: 'gateway-1', at_s: 2.5, duration_s: 0 })).toBe(
      'gateway_crash gateway-1 at 2.5 s down until healing',
    );
    expect(scheduleAsYaml([{ kind: 'network_latency', target: 'redis', at_s: 1, duration_s: 2, extra_latency_ms: 300 }])).toBe(
      'faults:\n  - { kind: network_latency, target: redis, at_s: 1, duration_s: 2, extra_latency_ms: 300 }',
    );
  });

  it('--faults takes indexes into the drawn schedule, or none', () => {
    expect(parseFaultIndexes('3,0,3', 4)).toEqual([0, 3]);
    expect(parseFaultIndexes('none', 4)).toEqual([]);
    expect(() => parseFaultIndexes('4', 4)).toThrow('0…3');
    expect(() => parseFaultIndexes('x', 4)).toThrow();
  });
});

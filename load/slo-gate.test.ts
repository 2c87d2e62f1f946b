import { describe, expect, it } from 'vitest';
import { evaluateObjectives, judge, objectivesOf, parseSloOverride, SloSpecError, withOverrides } from './slo-gate.js';

const empty = { p50: 0, p95: 0, p99: 0, p999: 0, max: 0, count: 0 };

describe('--slo overrides', () => {
  it('parses durations in ms, s and us, and bare numbers as ms', () => {
    expect(parseSloOverride('deliver.p99=200ms')).toEqual({ name: 'deliver.p99', limit: 200 });
    expect(parseSloOverride('ack.p95=0.5s')).toEqual({ name: 'ack.p95', limit: 500 });
    expect(parseSloOverride('deliver.p99=0.001ms').limit).toBe(0.001);
    expect(parseSloOverride('receipt.max=1500us').limit).toBe(1.5);
    expect(parseSloOverride('upload.p50=30').limit).toBe(30);
  });

  it('parses rates as ratios or percentages and violations as whole numbers', () => {
    expect(parseSloOverride('error.rate=1%').limit).toBeCloseTo(0.01);
    expect(parseSloOverride('error.rate=0.002').limit).toBe(0.002);
    expect(parseSloOverride('invariant.violations=3').limit).toBe(3);
  });

  it('rejects unknown names with the list of known ones, and bad values', () => {
    expect(() => parseSloOverride('deliver.p98=1ms')).toThrow(/unknown objective "deliver.p98"; known: .*deliver\.p99/);
    expect(() => parseSloOverride('deliver.p99')).toThrow(SloSpecError);
    expect(() => parseSloOverride('deliver.p99=fast')).toThrow(/duration/);
    expect(() => parseSloOverride('error.rate=150%')).toThrow(/ratio/);
    expect(() => parseSloOverride('invariant.violations=0.5')).toThrow(/whole number/);
  });

  it('replaces declared objectives and adds new ones', () => {
    const declared = objectivesOf({ deliver_p99_ms: 200, violations_max: 0 });
    const specs = withOverrides(declared, [parseSloOverride('deliver.p99=50ms'), parseSloOverride('ack.p99=80ms')]);
    expect(specs).toEqual([
      { name: 'deliver.p99', limit: 50 },
      { name: 'invariant.violations', limit: 0 },
      { name: 'ack.p99', limit: 80 },
    ]);
  });
});

describe('evaluating objectives', () => {
  it('passes latencies strictly below the target, counts at or below it', () => {
    const measured = {
      latency: { ack: empty, deliver: { ...empty, p99: 120, count: 10 }, receipt: empty, upload: empty },
      violations: 0,
      errorRate: 0.01,
    };
    const objectives = evaluateObjectives(
      [
        { name: 'deliver.p99', limit: 200 },
        { name: 'deliver.p99', limit: 120 },
        { name: 'invariant.violations', limit: 0 },
        { name: 'error.rate', limit: 0.005 },
      ],
      measured,
    );
    expect(objectives.map((o) => o.passed)).toEqual([true, false, true, false]);
    expect(objectives[0]).toMatchObject({ name: 'deliver.p99', target: '< 200 ms', actual: 120 });
  });

  it('fails an objective that measured nothing', () => {
    expect(judge({ name: 'ack.p99', limit: 1000 }, null).passed).toBe(false);
    const objectives = evaluateObjectives([{ name: 'ack.p99', limit: 1000 }], {
      latency: { ack: empty, deliver: empty, receipt: empty, upload: empty },
      violations: 0,
      errorRate: 0,
    });
    expect(objectives[0]).toMatchObject({ actual: null, passed: false });
  });
});

import { describe, expect, it } from 'vitest';
import type { PlannedFault } from '../faults/fault-plan.js';
import { presenceGraceMsFor } from './presence-grace.js';

const latency = (atS: number, durationS: number, extraLatencyMs: number): PlannedFault => ({
  kind: 'network_latency',
  target: 'clients',
  atS,
  durationS,
  extraLatencyMs,
  random: false,
});

describe('presenceGraceMsFor', () => {
  it('is the default 2 s without latency faults', () => {
    expect(presenceGraceMsFor([])).toBe(2_000);
    expect(presenceGraceMsFor([{ kind: 'gateway_crash', target: 'gateway-0', atS: 1, durationS: 2, random: false }])).toBe(2_000);
  });

  it('adds the most latency the faults add at one moment: overlapping ones add up, successive ones do not', () => {
    expect(presenceGraceMsFor([latency(1, 2, 2_500)])).toBe(4_500);
    expect(presenceGraceMsFor([latency(1, 2, 300), latency(2, 2, 1_000)])).toBe(3_300);
    expect(presenceGraceMsFor([latency(1, 1, 300), latency(2, 2, 1_000)])).toBe(3_000);
  });
});

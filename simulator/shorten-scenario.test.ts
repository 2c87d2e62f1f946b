import { describe, expect, it } from 'vitest';
import { readScenario } from '../scenarios/format/index.js';
import { shortenScenario, shorteningNotes } from './shorten-scenario.js';

describe('--duration-s', () => {
  it('says which faults a shortened run drops or cuts short, instead of passing without them in silence', async () => {
    const smoke = await readScenario(new URL('../scenarios/smoke.yaml', import.meta.url).pathname);
    expect(smoke.faults).toEqual([expect.objectContaining({ kind: 'gateway_crash', target: 'gateway-1', at_s: 12, duration_s: 5 })]);
    expect(shortenScenario(smoke, 10).faults).toEqual([]);
    expect(shorteningNotes(smoke, 10)).toEqual([
      '--duration-s 10 dropped the fault gateway_crash on gateway-1 at 12 s: this run does not exercise it',
    ]);
    expect(shorteningNotes(smoke, 14)).toEqual([
      '--duration-s 14 cut short the fault gateway_crash on gateway-1 at 12 s (5 s): it is healed at 14 s',
    ]);
    expect(shorteningNotes(smoke, 17)).toEqual([]);
  });
});

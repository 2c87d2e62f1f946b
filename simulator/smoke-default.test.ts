import { describe, expect, it } from 'vitest';
import { readScenario } from '../scenarios/format/index.js';
import { runSimulation } from './run-simulation.js';

/*
 * `npm run sim -- scenarios/smoke.yaml` is the README's first simulator example: a newcomer's
 * first run. On its default seed it must pass (exit 0); if a change makes it fail, either the
 * change or the example (and the docs that call its result normal) must change with it.
 */
describe('the README’s first simulator example', () => {
  it('passes on its default seed', async () => {
    const scenario = await readScenario(new URL('../scenarios/smoke.yaml', import.meta.url).pathname);
    const result = await runSimulation({ scenario });
    expect(
      result.summary.slo.objectives.filter((o) => !o.passed),
      JSON.stringify(result.summary.latency_ms),
    ).toEqual([]);
    expect(result.exitCode).toBe(0);
  }, 60_000);
});

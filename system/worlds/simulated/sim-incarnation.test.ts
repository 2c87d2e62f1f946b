/**
 * The simulated world keeps its log's incarnation the way the durable world it models does: one
 * for every gateway, unchanged by a gateway crash and restart, drawn from the run's seed.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../ports/logger.js';
import { noopMetrics } from '../../ports/metrics.js';
import { Scheduler } from '../../adapters/virtual/scheduler.js';
import { tinyScenario } from '../../../simulator/testing/tiny-scenario.js';
import { SimWorld } from './sim-world.js';

async function worldOf(seed: number): Promise<SimWorld> {
  const scenario = tinyScenario('', { gateways: 3 });
  const world = new SimWorld({ scenario, seed, time: new Scheduler(scenario.sim.tick_ms), metrics: noopMetrics, log: silentLogger });
  await Promise.all(world.gateways.map((g) => g.core.incarnation.start()));
  return world;
}

describe('the simulated log incarnation', () => {
  it('is one for every gateway, and survives a gateway crash and restart', async () => {
    const world = await worldOf(7);
    const incarnations = world.gateways.map((g) => g.core.incarnation.current);
    expect(incarnations[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(incarnations).size).toBe(1);
    const gateway = world.gateways[0]!;
    gateway.crash(() => 0);
    gateway.restart();
    expect(gateway.incarnation).toBe(2);
    expect(await gateway.core.incarnation.start()).toBe(incarnations[0]);
  });

  it('comes from the seed: the same for the same seed, another for another', async () => {
    const a = (await worldOf(7)).gateways[0]!.core.incarnation.current;
    const b = (await worldOf(7)).gateways[0]!.core.incarnation.current;
    const c = (await worldOf(8)).gateways[0]!.core.incarnation.current;
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });
});

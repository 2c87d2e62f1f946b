import { FaultInjector } from '../faults/fault-injector.js';
import { planFaults } from '../faults/fault-plan.js';
import type { SimRun } from './build-world.js';

/** The run's load once it has started: when it started, and the injector holding its faults. */
export interface StartedLoad {
  readonly startMs: number;
  readonly injector: FaultInjector;
}

/**
 * The fault-scheduling phase: the scenario's faults and those drawn from the run's seed are
 * checked against the world and scheduled from now, then the load starts (after the warm-up, at
 * least 1 s).
 */
export function startLoadAndFaults(run: SimRun): StartedLoad {
  const { plan, time, world, workload } = run;
  const startMs = time.nowMs();
  const faults = planFaults(plan.scenario, plan.runSeed);
  const injector = new FaultInjector(time, world, workload, startMs);
  injector.validate(faults);
  injector.schedule(faults);
  workload.start(Math.max(plan.scenario.warmup_s * 1000, 1_000));
  return { startMs, injector };
}

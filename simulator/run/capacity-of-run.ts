import { compareCapacity, formatCapacityComparison, type CapacityComparison, type MeasuredCapacity } from '../capacity/index.js';
import { measuredCapacityOf } from '../report/measured-capacity.js';
import type { SimRun } from './build-world.js';

/** The capacity model for the scenario's full population, with what the run measured of a gateway. */
export interface RunCapacity {
  measured: MeasuredCapacity | undefined;
  capacity: CapacityComparison | undefined;
  capacityText: string | undefined;
  /** Why the model could not be derived, for the summary's notes. */
  notes: string[];
}

/** Measures a gateway's frames per CPU second in the simulated CPU model and compares the capacity model with it. */
export function capacityOfRun(run: SimRun, reproduce: string): RunCapacity {
  const { gateways } = run.world;
  let framesPerGateway = 0;
  let busyMsPerGateway = 0;
  for (const g of gateways) {
    framesPerGateway += (g.framesIn + g.framesOut) / gateways.length;
    busyMsPerGateway += g.cpu.busyMs / gateways.length;
  }
  const measured = measuredCapacityOf(
    { framesPerGateway, busySecondsPerGateway: busyMsPerGateway / 1000 },
    `${reproduce} (simulated CPU model)`,
  );
  let capacity: CapacityComparison | undefined;
  try {
    capacity = compareCapacity(run.plan.fullScenario, measured ? { measured } : {});
    return { measured, capacity, capacityText: formatCapacityComparison(capacity), notes: [] };
  } catch (error) {
    return { measured, capacity, capacityText: undefined, notes: [`capacity model not derived: ${(error as Error).message}`] };
  }
}

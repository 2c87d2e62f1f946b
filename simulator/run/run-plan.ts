import type { Scenario } from '../../scenarios/format/index.js';
import { formatCellSlice, scenarioOfCell, seedOfCell, type CellSlice } from '../cells/cell-slice.js';

/** What a run simulates, resolved from its options before anything is built. */
export interface RunPlan {
  /** The scenario's whole population: the capacity model is derived for it. */
  readonly fullScenario: Scenario;
  /** The part simulated in detail (one cell of sim.cell_users, or the whole population). */
  readonly scenario: Scenario;
  /** Users of the population per simulated user (1 without cells). */
  readonly cellScale: number;
  /** The run's seed: faults draw from it, and it is the seed reported and reproduced. */
  readonly runSeed: number;
  /** The seed the users and servers draw from (a cell job's own, else the run's). */
  readonly seed: number;
  readonly cell: CellSlice | undefined;
}

/** The resolve phase: which scenario, cell and seeds the run simulates. */
export function planRun(options: { scenario: Scenario; seed?: number; cell?: CellSlice }): RunPlan {
  const fullScenario = options.cell ? scenarioOfCell(options.scenario, options.cell) : options.scenario;
  const { scenario, scale: cellScale } = cellOf(fullScenario);
  const runSeed = options.seed ?? scenario.seed;
  // A cell job's users and servers draw from the cell's own seed; its faults from the run's.
  const seed = options.cell ? seedOfCell(runSeed, options.cell) : runSeed;
  return { fullScenario, scenario, cellScale, runSeed, seed, cell: options.cell };
}

/**
 * With sim.cell_users below the population, one cell of that many users is simulated in detail
 * (simulator/README.md, "Cells"): per-user rates stay, aggregate rates shrink with the cell; the capacity model
 * scales back to the whole population.
 */
export function cellOf(scenario: Scenario): { scenario: Scenario; scale: number } {
  const cell = scenario.sim.cell_users;
  const users = scenario.population.users;
  if (cell === undefined || cell >= users) return { scenario, scale: 1 };
  const scale = users / cell;
  const traffic =
    scenario.traffic.messages_per_s !== undefined
      ? { ...scenario.traffic, messages_per_s: scenario.traffic.messages_per_s / scale }
      : scenario.traffic;
  return { scenario: { ...scenario, population: { ...scenario.population, users: cell }, traffic }, scale };
}

/** The command line that runs this plan again, for violation reports (the caller's own when it has one). */
export function reproduceCommandOf(plan: RunPlan, reproduceCommand?: (seed: number) => string): string {
  if (reproduceCommand) return reproduceCommand(plan.runSeed);
  const cellFlag = plan.cell ? ` --cell ${formatCellSlice(plan.cell)}` : '';
  return `npm run sim -- scenarios/${plan.scenario.name}.yaml --seed ${plan.runSeed}${cellFlag}`;
}

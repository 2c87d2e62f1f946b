import type { Scenario } from '../../scenarios/format/index.js';
import { mixSeed } from '../../system/adapters/virtual/seed-streams.js';
import { CellsErrorCodes } from './cells-error-codes.js';
import { ToolError } from '../../cli/tool-error.js';

/**
 * Cell `index` of `count`: the population split into `count` independent cells (simulator/README.md, "Split runs"), each
 * run as its own job through the real code, on the whole deployment's servers with the other
 * cells as background load, and merged afterwards (merge-cells.ts). Together the cells put every
 * user of the population through the real code.
 */
export interface CellSlice {
  index: number;
  count: number;
}

/** Parses `i/n` (as in `--cell 3/50`). */
export function parseCellSlice(text: string): CellSlice {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index >= count) {
    throw new ToolError(CellsErrorCodes.BAD_SLICE, `--cell needs i/n with 0 <= i < n, got "${text}"`);
  }
  return { index, count };
}

export function formatCellSlice(slice: CellSlice): string {
  return `${slice.index}/${slice.count}`;
}

/** Users of one cell: the population split as evenly as it goes (the first cells take the remainder). */
export function usersOfCell(population: number, slice: CellSlice): number {
  if (slice.count > population) throw new ToolError(CellsErrorCodes.BAD_SLICE, `${slice.count} cells is more than the ${population} users`);
  const base = Math.floor(population / slice.count);
  return base + (slice.index < population % slice.count ? 1 : 0);
}

/**
 * The seed of a cell's own users and servers: each cell is a different sample of the population.
 * The fault plan keeps the run's seed, so every cell sees the same faults at the same moments —
 * the cells share one deployment.
 */
export function seedOfCell(seed: number, slice: CellSlice): number {
  return mixSeed(seed, `cell ${slice.index}/${slice.count}`);
}

/** The scenario with its cell size set to this cell's users (sim.cell_users of the file is replaced). */
export function scenarioOfCell(scenario: Scenario, slice: CellSlice): Scenario {
  return { ...scenario, sim: { ...scenario.sim, cell_users: usersOfCell(scenario.population.users, slice) } };
}

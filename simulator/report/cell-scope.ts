/** The `cell` key of a simulator summary (run-simulation.ts), as far as the report needs it. */
export interface CellKey {
  users: number;
  of_users: number;
  background: boolean;
  index?: number;
  count?: number;
}

const n = (value: number) => value.toLocaleString('en-US');

/**
 * The sentence a cell run's page leads with: its user count is a cell's, not the population's,
 * and a reader must not take "20,000 users" for the deployment it sizes.
 */
export function cellScopeText(cell: CellKey): string {
  const others = cell.of_users - cell.users;
  const split = cell.count !== undefined ? ` (cell ${cell.index} of ${cell.count} of a split run)` : '';
  const rest = cell.background
    ? `the other ${n(others)} users are background load on every server, so utilisation, latency and tier queues are the whole deployment's, while throughput, fan-out, inbox, write-ahead-log and storage figures are the cell's`
    : `the cell runs alone on the topology (no background load for the other ${n(others)} users); the capacity table scales it to the population`;
  return `A cell of ${n(cell.users)} of ${n(cell.of_users)} users${split}: ${n(cell.users)} users are simulated in detail through the real code; ${rest}.`;
}

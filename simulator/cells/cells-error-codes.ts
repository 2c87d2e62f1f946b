/** Stable codes for problems with cell jobs and their merge; the commands map all of them to exit code 3. */
export const CellsErrorCodes = {
  /** `--cell` is not `i/n` with 0 ≤ i < n, or there are more cells than users. */
  BAD_SLICE: 'CELLS_BAD_SLICE',
  /** A summary file is unreadable, not JSON, or not a cell job's summary (no cell, no histograms). */
  BAD_SUMMARY: 'CELLS_BAD_SUMMARY',
  /** The summaries come from different runs: scenario, seed, cell count or simulated time differ. */
  MIXED_RUNS: 'CELLS_MIXED_RUNS',
  /** A cell is missing, or given twice. */
  INCOMPLETE: 'CELLS_INCOMPLETE',
  /** Bad command-line arguments. */
  BAD_ARGUMENTS: 'CELLS_BAD_ARGUMENTS',
  /** A cell job could not run (its process exited 3 or died). */
  CELL_FAILED: 'CELLS_CELL_FAILED',
} as const;
export type CellsErrorCode = (typeof CellsErrorCodes)[keyof typeof CellsErrorCodes];

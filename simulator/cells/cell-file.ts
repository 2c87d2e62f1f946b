import { z } from 'zod';
import type { RunSummary } from '../../checker/run-summary.js';
import type { SeriesPoint } from '../report/collector.js';
import { CellsErrorCodes } from './cells-error-codes.js';
import { readJsonFile } from '../read-json-file.js';
import { ToolError } from '../../cli/tool-error.js';

const latency = z.object({ hdr_base64: z.string().min(1), max_ms: z.number().nonnegative(), count: z.number().int().nonnegative() });

/**
 * The parts of a cell job's `--json` file the merge reads; everything else is carried loosely.
 * A file from a run without `--cell`, or from before the summary carried its histograms, fails
 * here with the field that is missing.
 */
const cellFileSchema = z.looseObject({
  kind: z.literal('sim'),
  scenario: z.string(),
  seed: z.number().int(),
  users: z.number().int().positive(),
  devices: z.number().int().nonnegative(),
  cell: z.looseObject({
    index: z.number().int().nonnegative(),
    count: z.number().int().positive(),
    seed: z.number().int(),
    of_users: z.number().int().positive(),
    duration_s: z.number().positive(),
  }),
  sim: z.looseObject({
    simulated_s: z.number().nonnegative(),
    events: z.number().int().nonnegative(),
    heap_bytes_peak: z.number().nonnegative(),
    trace_hash: z.string(),
    cpu_s: z.number().nonnegative(),
    history_events: z.number().int().nonnegative(),
    histograms: z.object({
      ack: latency,
      deliver: latency,
      presence_staleness: z.object({ bins: z.array(z.tuple([z.number().int(), z.number().nonnegative()])), max: z.number() }),
    }),
    rejected: z.number().int().nonnegative(),
    liveness: z.looseObject({ converged: z.boolean(), converged_after_s: z.number().nullable() }),
  }),
  series: z.array(z.looseObject({ t_s: z.number() })),
});

/** One cell job's summary file, checked. */
export type CellFile = RunSummary & z.infer<typeof cellFileSchema> & { series: SeriesPoint[] };

export interface CellRun {
  /** Where it came from, for errors (a file path). */
  source: string;
  run: CellFile;
}

export function parseCellFile(value: unknown, source: string): CellRun {
  const parsed = cellFileSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ToolError(
      CellsErrorCodes.BAD_SUMMARY,
      `${source}: not a cell job's summary (npm run sim -- … --cell i/n --json FILE): ${issue.path.join('.') || '(top)'}: ${issue.message}`,
    );
  }
  return { source, run: value as CellFile };
}

export async function readCellFile(path: string): Promise<CellRun> {
  const value = await readJsonFile(path, (message) => new ToolError(CellsErrorCodes.BAD_SUMMARY, message));
  return parseCellFile(value, path);
}

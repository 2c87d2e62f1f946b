import { readJsonFile } from '../read-json-file.js';
import { z } from 'zod';
import type { PerNodeCapacity } from './capacity-assumptions.js';
import { CapacityErrorCodes } from './capacity-error-codes.js';
import { ToolError } from '../../cli/tool-error.js';

/*
 * Per-node capacity somebody measured (the simulator, a load run, a staging cluster), as given to
 * `npm run capacity -- --measured FILE.json`. Every figure is optional: the ones given replace the
 * planning defaults, the others stay. Example:
 *   { "source": "npm run sim -- scenarios/gateway-capacity.yaml", "framesPerGatewayPerS": 41000 }
 */
const positive = z.number().positive();

export const measuredCapacitySchema = z
  .object({
    /** Where the figures come from (a command, a run id); shown next to the measured column. */
    source: z.string().optional(),
    connectionsPerGateway: positive.optional(),
    framesPerGatewayPerS: positive.optional(),
    cassandraWritesPerNodePerS: positive.optional(),
    redisOpsPerShardPerS: positive.optional(),
  })
  .strict();

export type MeasuredCapacity = Partial<PerNodeCapacity> & { source?: string };

/** Validates a parsed document; `source` names it in errors. */
export function parseMeasuredCapacity(document: unknown, source: string): MeasuredCapacity {
  const result = measuredCapacitySchema.safeParse(document);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `  - ${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`).join('\n');
    throw new ToolError(CapacityErrorCodes.BAD_MEASURED_FILE, `${source}: not a measured-capacity file:\n${issues}`);
  }
  return result.data;
}

export async function readMeasuredCapacity(path: string): Promise<MeasuredCapacity> {
  const document = await readJsonFile(path, (message) => new ToolError(CapacityErrorCodes.BAD_MEASURED_FILE, message));
  return parseMeasuredCapacity(document, path);
}

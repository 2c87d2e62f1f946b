import { isChatClientError } from '../../sdk/index.js';
import { ToolError } from '../../cli/tool-error.js';
import { LoadErrorCodes } from '../error-codes.js';
import { shardLabel } from '../shard.js';
import type { LoadRun } from './build-run.js';

/** A device that is not welcomed within this at setup or settle counts as a failed connect. */
export const CONNECT_TIMEOUT_MS = 30_000;
/** The first connection proves the target is there; this long without a welcome = unreachable. */
const PROBE_TIMEOUT_MS = 10_000;

/** The setup's connection attempts and those that failed, by error code (the summary's `connect_failures`). */
export interface ConnectTally {
  attempts: number;
  failures: Record<string, number>;
}

/**
 * The connect phase: every device of the shard connects once, so its user and device exist on
 * the target. The first device alone probes the target: when it is not welcomed the run cannot be
 * carried out (TARGET_UNREACHABLE); the others connect at most `live.connect_concurrency` at a time,
 * and those that fail are counted, not fatal.
 */
export async function connectFleet(run: LoadRun): Promise<ConnectTally> {
  const { settings, fleet, measurements, shardPlan } = run;
  const { log, live, runId, shard } = settings;
  log(
    `run ${runId}, shard ${shardLabel(shard)}: ${shardPlan.users.length} users, ${fleet.devices.length} devices, ${shardPlan.groupsToCreate.length} groups to create`,
  );
  const tally: ConnectTally = { attempts: 0, failures: {} };
  const first = fleet.devices[0];
  if (first) {
    tally.attempts++;
    await fleet.connect(first, PROBE_TIMEOUT_MS).catch((error: unknown) => {
      throw new ToolError(
        LoadErrorCodes.TARGET_UNREACHABLE,
        `cannot connect to ${run.target.targets.join(', ')}: ${(error as Error).message}`,
      );
    });
  }
  tally.attempts += fleet.devices.length - 1;
  await fleet.connectAll(fleet.devices.slice(1), live.connect_concurrency, CONNECT_TIMEOUT_MS, (_device, error) => {
    const code = isChatClientError(error) ? error.code : 'connect_failed';
    tally.failures[code] = (tally.failures[code] ?? 0) + 1;
    measurements.onError(`connect:${code}`);
  });
  log(`${fleet.online.length} of ${fleet.devices.length} devices connected`);
  return tally;
}

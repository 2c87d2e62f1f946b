import type { MeasuredCapacity } from '../capacity/index.js';

/**
 * What this run measured per gateway, for the capacity model: frames one gateway process can
 * serve per second, from the frames it handled and the CPU time they took, at the utilisation
 * where queueing stays small (GATEWAY_UTILISATION_AT_SLO). Only what the simulator measured is
 * given; the other per-node figures stay the model's defaults.
 */
export const GATEWAY_UTILISATION_AT_SLO = 0.7;

export function measuredCapacityOf(
  stats: { framesPerGateway: number; busySecondsPerGateway: number },
  source: string,
): MeasuredCapacity | undefined {
  if (stats.busySecondsPerGateway <= 0 || stats.framesPerGateway <= 0) return undefined;
  return { source, framesPerGatewayPerS: Math.round((stats.framesPerGateway / stats.busySecondsPerGateway) * GATEWAY_UTILISATION_AT_SLO) };
}

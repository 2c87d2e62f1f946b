import { z } from 'zod';

/*
 * The fault vocabulary shared by the simulator, the live load driver and chaos drills: the same
 * kind names mean the same thing in all three. A world that cannot inject a kind says so when the
 * run starts (exit 3), it never skips it silently.
 */

export const FAULT_KINDS = [
  'gateway_crash', // kill -9 of one gateway process; it restarts after duration_s (0 = stays down)
  'gateway_pause', // SIGSTOP for duration_s, then SIGCONT: a hung process that still holds its sockets
  'cassandra_outage', // the message store stops answering (timeouts) for duration_s
  'redis_restart', // Redis loses all state and comes back after duration_s
  'network_latency', // extra one-way delay on the link to `target` (a tier) for duration_s
  'network_partition', // the link to `target` drops everything for duration_s
  'slow_consumer', // a share of devices reads its socket slowly for duration_s
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Which part of the topology a fault hits. Gateways are numbered from 0. */
export const faultTarget = z
  .string()
  .regex(
    /^(gateway-\d+|gateways|cassandra|redis|s3|push|clients)$/,
    'target is gateway-<n>, gateways, cassandra, redis, s3, push or clients',
  );

export const scheduledFault = z
  .object({
    kind: z.enum(FAULT_KINDS),
    target: faultTarget.optional().describe('Defaults to the tier the kind names (gateway-0 for gateway faults).'),
    at_s: z.number().nonnegative().describe('Seconds after the run starts.'),
    duration_s: z.number().nonnegative().describe('How long the fault lasts before it heals.'),
    extra_latency_ms: z.number().positive().optional().describe('network_latency only: added delay.'),
    share: z.number().min(0).max(1).optional().describe('slow_consumer only: share of devices affected.'),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (f.kind === 'network_latency' && f.extra_latency_ms === undefined) {
      ctx.addIssue({ code: 'custom', message: 'network_latency needs extra_latency_ms', path: ['extra_latency_ms'] });
    }
    if (f.kind === 'slow_consumer' && f.share === undefined) {
      ctx.addIssue({ code: 'custom', message: 'slow_consumer needs share', path: ['share'] });
    }
  });
export type ScheduledFault = z.infer<typeof scheduledFault>;

export const randomFaults = z
  .object({
    per_hour: z.number().positive().describe('Mean number of faults drawn per simulated hour.'),
    kinds: z.array(z.enum(FAULT_KINDS)).min(1),
    duration_s: z.number().positive().describe('Mean duration of each drawn fault.'),
  })
  .strict()
  .describe('Faults drawn from the seed (simulator); the live driver ignores this section.');

/** The tier a fault kind hits when the scenario names no target. */
export function defaultTargetOf(kind: FaultKind): string {
  switch (kind) {
    case 'gateway_crash':
    case 'gateway_pause':
      return 'gateway-0';
    case 'cassandra_outage':
      return 'cassandra';
    case 'redis_restart':
      return 'redis';
    case 'network_latency':
    case 'network_partition':
      return 'cassandra';
    case 'slow_consumer':
      return 'clients';
  }
}

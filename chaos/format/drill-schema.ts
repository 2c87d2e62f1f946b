import { z } from 'zod';
import { FAULT_KINDS, faultTarget, scheduledFault, slo } from '../../scenarios/format/index.js';

/*
 * A chaos drill: a steady-state hypothesis (SLOs), a load (a scenario file), a fault schedule, an
 * abort rule and how recovery is judged. The fault entries use the shared fault vocabulary
 * (scenarios/format/faults.ts) with a few drill-only knobs for the proxy (jitter, bandwidth,
 * partition mode). The JSON schema in chaos/drill.schema.json is generated from this file
 * (`npm run chaos:schema`) and a test keeps the two in step. Units are in the names.
 */

const share = z.number().min(0).max(1);

export const PARTITION_MODES = ['blackhole', 'reset', 'refuse'] as const;

/** Which fault kinds hit which targets in a drill; anything else is rejected when the file is read. */
const GATEWAY = { pattern: /^gateway-\d+$/, text: 'gateway-<n>' };
const BACKEND_LINK = { pattern: /^(cassandra|redis)$/, text: 'cassandra or redis' };
const TARGETS_BY_KIND: Record<(typeof FAULT_KINDS)[number], { pattern: RegExp; text: string } | null> = {
  gateway_crash: GATEWAY,
  gateway_pause: GATEWAY,
  cassandra_outage: { pattern: /^cassandra$/, text: 'cassandra' },
  redis_restart: { pattern: /^redis$/, text: 'redis' },
  network_latency: BACKEND_LINK,
  network_partition: BACKEND_LINK,
  // A client behaviour, not an infrastructure fault: the load driver's business, not a drill's.
  slow_consumer: null,
};

export const drillFault = z
  .object({
    ...scheduledFault.shape,
    target: faultTarget.optional().describe('Defaults to the tier the kind names (gateway-0 for gateway faults).'),
    jitter_ms: z.number().nonnegative().optional().describe('network_latency only: random variation added to extra_latency_ms.'),
    bandwidth_kbps: z.number().positive().optional().describe('network_latency only: also cap the link at this many KB/s each way.'),
    mode: z
      .enum(PARTITION_MODES)
      .optional()
      .describe(
        'network_partition only: blackhole (default: bytes vanish, connections hang), reset (TCP RST) or refuse (connections closed and refused).',
      ),
  })
  .strict()
  .superRefine((f, ctx) => {
    // The shared vocabulary's own rules (e.g. network_latency needs extra_latency_ms).
    const { jitter_ms: _jitter, bandwidth_kbps: _bandwidth, mode: _mode, ...shared } = f;
    const sharedResult = scheduledFault.safeParse(shared);
    if (!sharedResult.success)
      for (const issue of sharedResult.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    const allowed = TARGETS_BY_KIND[f.kind];
    if (allowed === null) {
      ctx.addIssue({
        code: 'custom',
        path: ['kind'],
        message: `${f.kind} is a client behaviour: put it in the scenario for the load driver, not in a drill`,
      });
    } else if (f.target !== undefined && !allowed.pattern.test(f.target)) {
      ctx.addIssue({ code: 'custom', path: ['target'], message: `${f.kind} cannot hit ${f.target} (it hits ${allowed.text})` });
    }
    if ((f.jitter_ms !== undefined || f.bandwidth_kbps !== undefined) && f.kind !== 'network_latency') {
      ctx.addIssue({ code: 'custom', path: ['kind'], message: 'jitter_ms and bandwidth_kbps belong to network_latency' });
    }
    if (f.mode !== undefined && f.kind !== 'network_partition') {
      ctx.addIssue({ code: 'custom', path: ['mode'], message: 'mode belongs to network_partition' });
    }
  });
export type DrillFault = z.infer<typeof drillFault>;

/**
 * A surge of offered load: the load driver multiplies its rate for a while (a scenario spike the
 * drill adds). Judged like a fault: recovery is measured from the surge's end.
 */
export const drillSurge = z
  .object({
    at_s: z.number().nonnegative().describe('Seconds after the traffic starts.'),
    duration_s: z.number().positive().describe('How long the surge lasts.'),
    multiplier: z.number().min(1).describe('Offered load during the surge, as a multiple of the drill’s rate (3: three times).'),
  })
  .strict();
export type DrillSurge = z.infer<typeof drillSurge>;

export const DRILL_WORLDS = ['production', 'embedded'] as const;

export const drillTopology = z
  .object({
    world: z
      .enum(DRILL_WORLDS)
      .default('production')
      .describe(
        'production: gateways on Cassandra and Redis (behind the fault proxy). embedded: one gateway process with everything in memory (no backends, so only gateway faults and surges).',
      ),
    gateways: z.number().int().min(1).max(16).optional().describe('Gateway processes; defaults to the scenario’s topology.gateways.'),
    cassandra: z
      .enum(['shared', 'private'])
      .default('shared')
      .describe(
        'shared: the running local Cassandra behind the fault proxy (an outage = the proxy refuses connections). private: a Cassandra of the drill’s own on other ports (an outage = the process is really stopped and restarted; ~25 s to start).',
      ),
    redis: z
      .enum(['private', 'shared'])
      .default('private')
      .describe(
        'private: a redis-server of the drill’s own (a restart really loses its state). shared: the running local Redis (no redis_restart).',
      ),
    limits: z
      .array(z.string().regex(/^[A-Za-z0-9]+=\S+$/, 'name=value'))
      .default([])
      .describe('Gateway limit overrides (names from system/core/limits.ts).'),
  })
  .strict();

export const abortRule = z
  .object({
    error_rate_above: share.optional().describe('Abort when this share of sends per second failed or went unanswered …'),
    deliver_p99_above_ms: z.number().positive().optional().describe('… or when the per-second deliver p99 stays above this …'),
    for_s: z.number().int().positive().default(10).describe('… for this many consecutive seconds.'),
    max_duration_s: z
      .number()
      .positive()
      .optional()
      .describe('Hard stop of the whole drill (load, settling, checking); defaults to 3 × (duration + liveness bound).'),
  })
  .strict();

export const recoveryRule = z
  .object({
    throughput_within: share.default(0.3).describe('Delivered messages/s must be back to at least (1 − this) × the pre-fault mean …'),
    deliver_p99_ms: z
      .number()
      .positive()
      .optional()
      .describe('… and the per-second deliver p99 under this (defaults to steady_state.deliver_p99_ms) …'),
    baseline_p99_factor: z
      .number()
      .min(1)
      .default(2)
      .describe(
        '… or, where even the pre-fault p99 misses that target (a loaded machine), within this many times the pre-fault p99 (median of its seconds) …',
      ),
    window_s: z.number().int().positive().default(3).describe('… both measured over a sliding window of this many seconds …'),
    hold_s: z
      .number()
      .int()
      .positive()
      .default(5)
      .describe('… for this many consecutive seconds; recovery time is the start of that stretch.'),
    bound_s: z
      .number()
      .positive()
      .default(60)
      .describe('A fault not recovered within this many seconds fails the drill’s recovery objective.'),
  })
  .strict();

export const drillSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'names are lower-case words joined by -'),
    description: z.string().default(''),
    scenario: z.string().min(1).describe('The load: a scenario file, relative to this drill file. Its own faults are ignored.'),
    overrides: z
      .object({
        duration_s: z.number().positive().optional(),
        messages_per_s: z.number().positive().optional(),
        users: z.number().int().positive().optional(),
        seed: z.number().int().nonnegative().optional(),
        liveness_bound_s: z.number().positive().optional(),
        warmup_s: z
          .number()
          .nonnegative()
          .optional()
          .describe('Seconds at the start whose messages are not timed (a freshly started cluster settles).'),
      })
      .strict()
      .default({})
      .describe('Changes to the scenario for this drill.'),
    topology: drillTopology.default({ world: 'production', cassandra: 'shared', redis: 'private', limits: [] }),
    steady_state: slo.optional().describe('The SLOs that hold outside fault windows; defaults to the scenario’s slo section.'),
    faults: z.array(drillFault).default([]).describe('Infrastructure faults; a drill needs at least one fault or one surge.'),
    surges: z.array(drillSurge).default([]).describe('Surges of offered load (overload drills).'),
    memory: z
      .object({
        gateway_peak_rss_mb_max: z
          .number()
          .positive()
          .describe('Each gateway process’s peak resident memory (VmHWM) must stay under this.'),
      })
      .strict()
      .optional()
      .describe('Memory objective: judged from each gateway process’s peak resident set, every incarnation included.'),
    abort: abortRule.default({ for_s: 10 }),
    recovery: recoveryRule.default({ throughput_within: 0.3, baseline_p99_factor: 2, window_s: 3, hold_s: 5, bound_s: 60 }),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.faults.length === 0 && d.surges.length === 0)
      ctx.addIssue({ code: 'custom', path: ['faults'], message: 'a drill needs at least one fault or one surge' });
    if (d.topology.world === 'embedded') {
      if (d.topology.gateways !== undefined && d.topology.gateways !== 1)
        ctx.addIssue({ code: 'custom', path: ['topology', 'gateways'], message: 'the embedded world is one gateway process' });
      d.faults.forEach((f, i) => {
        if (!f.kind.startsWith('gateway_'))
          ctx.addIssue({
            code: 'custom',
            path: ['faults', i, 'kind'],
            message: `${f.kind} needs backends; the embedded world has none (gateway faults and surges only)`,
          });
      });
    }
    d.faults.forEach((f, i) => {
      if (f.kind === 'redis_restart' && d.topology.redis === 'shared') {
        ctx.addIssue({
          code: 'custom',
          path: ['faults', i, 'kind'],
          message: 'redis_restart needs topology.redis: private (the shared Redis is never restarted by a drill)',
        });
      }
    });
  });

/** A validated drill with defaults filled in (scenario not yet loaded). */
export type DrillFile = z.infer<typeof drillSchema>;
export type DrillInput = z.input<typeof drillSchema>;

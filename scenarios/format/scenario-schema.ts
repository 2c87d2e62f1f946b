import { z } from 'zod';
import { distribution } from './distributions.js';
import { randomFaults, scheduledFault } from './faults.js';
import { liveSection } from './live-section.js';
import { simSection } from './sim-section.js';

/*
 * One scenario format for the simulator (`npm run sim`) and the live load driver (`npm run load`):
 * the shared knobs (population, traffic, groups, faults, SLOs) mean the same in both. The JSON
 * schema in scenarios/scenario.schema.json is generated from this file (`npm run scenarios:schema`)
 * and a test keeps the two in step. Units are in the names (_s, _ms, _bytes).
 */

const share = z.number().min(0).max(1);

export const population = z
  .object({
    users: z.number().int().positive().describe('Virtual users in the run.'),
    devices_per_user: z
      .array(share)
      .min(1)
      .max(16)
      .default([1])
      .describe('Share of users with 1, 2, 3… devices; sums to 1. [0.8, 0.2] = 80% one device, 20% two.'),
    online_share: share.default(0.25).describe('Share of devices online at any moment (the design card: 25%).'),
    session_length_s: distribution
      .default({ kind: 'exponential', mean: 600 })
      .describe('How long a device stays connected; offline gaps follow from online_share.'),
    contacts_per_user: z.number().int().positive().max(64).default(8).describe('1:1 partners each user writes to (a small social graph).'),
  })
  .strict();

/** A point of the piecewise-linear rate curve: at at_s the base rate is multiplied by multiplier. */
const ratePoint = z.object({ at_s: z.number().nonnegative(), multiplier: z.number().nonnegative() }).strict();

export const spike = z
  .object({
    at_s: z.number().nonnegative(),
    duration_s: z.number().positive(),
    multiplier: z.number().positive().describe('Rate multiplier during the spike, e.g. 3 for New Year’s Eve.'),
  })
  .strict();

export const traffic = z
  .object({
    messages_per_s: z.number().positive().optional().describe('Aggregate base send rate (all users together).'),
    messages_per_user_per_day: z
      .number()
      .positive()
      .optional()
      .describe('Per-user base rate; the design card has 50 (100B messages/day over 2B users).'),
    rate_curve: z.array(ratePoint).default([]).describe('Diurnal or ramp curve: multipliers at times, linear in between; empty = flat 1.'),
    spikes: z.array(spike).default([]),
    activity: distribution
      .default({ kind: 'pareto', alpha: 1.5, min: 0.34 })
      .describe('Per-user activity multiplier (mean ≈ 1): heavy-tailed, a few users send most.'),
    group_share: share.default(0.3).describe('Share of messages sent to groups rather than 1:1.'),
    message_bytes: distribution.default({ kind: 'lognormal', median: 80, sigma: 0.6, max: 4096 }),
    media: z
      .object({
        share: share.describe('Share of messages carrying a media attachment.'),
        bytes: distribution.default({ kind: 'lognormal', median: 150_000, sigma: 1, max: 16_000_000 }),
      })
      .strict()
      .default({ share: 0.05, bytes: { kind: 'lognormal', median: 150_000, sigma: 1, max: 16_000_000 } }),
    reads: z
      .object({
        share: share.describe('Share of delivered messages the recipient reads (sends a read receipt).'),
        delay_s: distribution.default({ kind: 'exponential', mean: 5 }),
      })
      .strict()
      .default({ share: 0.7, delay_s: { kind: 'exponential', mean: 5 } }),
    encrypted_share: share.default(0).describe('Share of users running real MLS encryption (cost measurement).'),
  })
  .strict()
  .refine((t) => (t.messages_per_s === undefined) !== (t.messages_per_user_per_day === undefined), {
    message: 'give exactly one of messages_per_s and messages_per_user_per_day',
  });

export const groups = z
  .object({
    per_user: z.number().nonnegative().default(0.05).describe('Groups per user: 0.05 = one group per 20 users.'),
    size: distribution
      .default({ kind: 'zipf', exponent: 1.1, min: 3, max: 256 })
      .describe('Members per group (at most 256, the group limit).'),
    hot: z
      .array(
        z
          .object({
            size: z.number().int().min(2).max(256),
            traffic_share: share.describe('Share of all group messages that go to this one group.'),
          })
          .strict(),
      )
      .default([])
      .describe('Viral groups that take a fixed share of group traffic.'),
  })
  .strict();

export const slo = z
  .object({
    deliver_p99_ms: z.number().positive().default(200),
    ack_p99_ms: z.number().positive().optional(),
    violations_max: z.number().int().nonnegative().default(0),
    error_rate_max: share.optional(),
  })
  .strict();

export const scenarioSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'names are lower-case words joined by -'),
    description: z.string().default(''),
    seed: z.number().int().nonnegative().default(1),
    duration_s: z.number().positive().describe('Length of the safety phase (load, faults).'),
    warmup_s: z.number().nonnegative().default(0).describe('Excluded from latency figures.'),
    liveness_bound_s: z
      .number()
      .positive()
      .default(60)
      .describe('After faults heal and load stops, everything queued must be delivered within this.'),
    topology: z
      .object({ gateways: z.number().int().positive().max(64).default(1) })
      .strict()
      .default({ gateways: 1 }),
    population,
    traffic,
    groups: groups.default({ per_user: 0.05, size: { kind: 'zipf', exponent: 1.1, min: 3, max: 256 }, hot: [] }),
    faults: z.array(scheduledFault).default([]),
    random_faults: randomFaults.optional(),
    slo: slo.default({ deliver_p99_ms: 200, violations_max: 0 }),
    sim: simSection.prefault({}),
    live: liveSection.default({}),
  })
  .strict()
  .superRefine((s, ctx) => {
    const shares = s.population.devices_per_user;
    const total = shares.reduce((a, b) => a + b, 0);
    if (Math.abs(total - 1) > 1e-6) {
      ctx.addIssue({ code: 'custom', path: ['population', 'devices_per_user'], message: `shares sum to ${total}, not 1` });
    }
    s.faults.forEach((f, i) => {
      if (f.at_s >= s.duration_s) {
        ctx.addIssue({
          code: 'custom',
          path: ['faults', i, 'at_s'],
          message: `starts at ${f.at_s}s, after the run ends (${s.duration_s}s)`,
        });
      }
      const gateway = /^gateway-(\d+)$/.exec(f.target ?? '');
      if (gateway && Number(gateway[1]) >= s.topology.gateways) {
        ctx.addIssue({
          code: 'custom',
          path: ['faults', i, 'target'],
          message: `${f.target} does not exist: topology has ${s.topology.gateways} gateway(s)`,
        });
      }
    });
  });

/** A validated scenario with every default filled in. */
export type Scenario = z.infer<typeof scenarioSchema>;
/** What a scenario file may contain (defaults optional). */
export type ScenarioInput = z.input<typeof scenarioSchema>;

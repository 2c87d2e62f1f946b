import { z } from 'zod';

/*
 * Knobs only the live load driver reads (real sockets on this machine). Owned by the load driver;
 * the simulator ignores this section. Fields are optional here and their defaults live in
 * LIVE_DEFAULTS (resolveLiveSection), because the scenario schema defaults the whole section to {}.
 */
export const liveSection = z
  .object({
    /** Local source addresses to spread connections over (127.0.0.x), beyond ~28k per address. */
    source_addresses: z
      .array(z.string().regex(/^127\.\d+\.\d+\.\d+$/, 'a loopback address 127.x.y.z'))
      .min(1)
      .optional(),
    connect_concurrency: z
      .number()
      .int()
      .positive()
      .max(10_000)
      .optional()
      .describe('Connection attempts in flight at once while the virtual devices connect at setup (default 200).'),
    faults: z
      .enum(['refuse', 'skip'])
      .optional()
      .describe(
        'A scenario with faults as a plain load run: refuse (exit 3, the default) or skip them (listed in the summary as skipped). `npm run chaos` injects them.',
      ),
    presence: z.boolean().optional().describe('Each device watches the presence of its user’s 1:1 contacts (default true).'),
    media_downloads: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        'Share of received plaintext media messages the recipient device downloads, checking the length against the declared size (default 0). Live only: the simulator’s media has sizes, no bytes to fetch.',
      ),
    encrypted_groups: z
      .number()
      .int()
      .nonnegative()
      .max(1_000)
      .optional()
      .describe(
        'Make this many of the smallest ordinary groups end-to-end encrypted: their members are drawn first among the traffic.encrypted_share users (when they fit), so even a small share has MLS groups (default 0). Live only: the simulator draws its encrypted users its own way.',
      ),
    membership_changes: z
      .number()
      .int()
      .nonnegative()
      .max(10_000)
      .optional()
      .describe(
        'Membership changes during the traffic, spread evenly: each time the admin of an ordinary plaintext group adds a user who is not a member and removes one who is (default 0). Live only: the simulator ignores it.',
      ),
    push_tokens: z
      .boolean()
      .optional()
      .describe(
        'Each device registers a push token when it connects, so members offline at a send get a push; the embedded target reports how many it recorded (default false). Live only: the simulator ignores it.',
      ),
    validate_frames: z.boolean().optional().describe('zod-check every server frame in the clients; costs driver CPU (default false).'),
  })
  .strict()
  .describe('Live-driver-only knobs: connections and sockets.');
export type LiveSection = z.infer<typeof liveSection>;

export interface ResolvedLiveSection {
  source_addresses?: string[];
  connect_concurrency: number;
  faults: 'refuse' | 'skip';
  presence: boolean;
  validate_frames: boolean;
  media_downloads: number;
  encrypted_groups: number;
  membership_changes: number;
  push_tokens: boolean;
}

export const LIVE_DEFAULTS: Readonly<Omit<ResolvedLiveSection, 'source_addresses'>> = Object.freeze({
  connect_concurrency: 200,
  faults: 'refuse',
  presence: true,
  validate_frames: false,
  media_downloads: 0,
  encrypted_groups: 0,
  membership_changes: 0,
  push_tokens: false,
});

export function resolveLiveSection(live: LiveSection | undefined): ResolvedLiveSection {
  return {
    connect_concurrency: live?.connect_concurrency ?? LIVE_DEFAULTS.connect_concurrency,
    faults: live?.faults ?? LIVE_DEFAULTS.faults,
    presence: live?.presence ?? LIVE_DEFAULTS.presence,
    validate_frames: live?.validate_frames ?? LIVE_DEFAULTS.validate_frames,
    media_downloads: live?.media_downloads ?? LIVE_DEFAULTS.media_downloads,
    encrypted_groups: live?.encrypted_groups ?? LIVE_DEFAULTS.encrypted_groups,
    membership_changes: live?.membership_changes ?? LIVE_DEFAULTS.membership_changes,
    push_tokens: live?.push_tokens ?? LIVE_DEFAULTS.push_tokens,
    ...(live?.source_addresses ? { source_addresses: live.source_addresses } : {}),
  };
}

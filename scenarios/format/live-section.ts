import { z } from 'zod';

/*
 * Knobs only the live load driver reads (real sockets on this machine). Owned by the load driver;
 * the simulator ignores this section.
 */
export const liveSection = z
  .object({
    /** Local source addresses to spread connections over (127.0.0.x), beyond ~28k per address. */
    source_addresses: z.array(z.string().regex(/^127\.\d+\.\d+\.\d+$/, 'a loopback address 127.x.y.z')).min(1).optional(),
  })
  .strict()
  .describe('Live-driver-only knobs: connections and sockets.');
export type LiveSection = z.infer<typeof liveSection>;

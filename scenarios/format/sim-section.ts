import { z } from 'zod';

/*
 * Knobs only the simulator reads (infrastructure models). Owned by the simulator; the live driver
 * ignores this section. Every number here has a default documented in simulator/README.md.
 */
export const simSection = z
  .object({
    /** Simulate this many users in detail and scale tier loads by population ÷ cell (DESIGN §5 "cells"). */
    cell_users: z.number().int().positive().optional(),
  })
  .strict()
  .describe('Simulator-only knobs: infrastructure models and cell size.');
export type SimSection = z.infer<typeof simSection>;

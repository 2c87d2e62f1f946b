import type { InvariantName } from './violation.js';

export interface CheckOptions {
  /** Presence TTL: a user shown online must have had a live connection within this (default 60 000). */
  presenceTtlMs?: number;
  /** Slack for propagation delay and recorder clock skew in presence checks (default 2 000). */
  presenceGraceMs?: number;
  /** Violations kept per invariant (all are counted; default 1 000). */
  maxViolationsPerInvariant?: number;
  /** Which invariants checkHistory runs (default: all). */
  invariants?: readonly InvariantName[];
}

export const DEFAULT_PRESENCE_TTL_MS = 60_000;
export const DEFAULT_PRESENCE_GRACE_MS = 2_000;

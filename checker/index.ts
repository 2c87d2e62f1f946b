/**
 * The one invariant checker (the guarantees of docs/protocol.md §7): named, pure functions over a recorded history.
 * Each invariant function takes a history (or a prebuilt HistoryIndex, to share the work) and
 * returns its violations with minimal witnesses; checkHistory runs them all.
 */
import { toIndex, type HistoryIndex, type HistoryInput } from './history-index.js';
import { checkDurability } from './durability.js';
import { checkMembership } from './membership.js';
import { checkNoDuplicates } from './no-duplicates.js';
import type { CheckOptions } from './options.js';
import { checkOrder } from './order.js';
import { checkPresence } from './presence.js';
import { checkReceipts } from './receipts.js';
import { INVARIANT_NAMES, ViolationSink, type InvariantName, type Violation } from './violation.js';

export type { HistoryEvent, History } from './history.js';
export type { CheckOptions } from './options.js';
export { DEFAULT_PRESENCE_GRACE_MS, DEFAULT_PRESENCE_TTL_MS } from './options.js';
export { INVARIANT_NAMES, MAX_WITNESS_EVENTS, DEFAULT_MAX_VIOLATIONS_PER_INVARIANT } from './violation.js';
export type { InvariantName, Violation } from './violation.js';
export { buildHistoryIndex, messageKey } from './history-index.js';
export type { HistoryIndex, HistoryInput } from './history-index.js';
export { MembershipTimeline, buildMembershipTimeline } from './membership-timeline.js';
export type { MemberStatus, MemberAnswer } from './membership-timeline.js';
export { durability } from './durability.js';
export { order } from './order.js';
export { noDuplicates } from './no-duplicates.js';
export { receipts } from './receipts.js';
export { presence } from './presence.js';
export { membership } from './membership.js';
export { latencySamples, percentiles, latencySummary } from './latency.js';
export type { LatencySamples, Percentiles } from './latency.js';
export { formatEvent, formatViolation } from './format.js';

export interface CheckResult {
  /** The invariants that ran. */
  checked: InvariantName[];
  /** Violations, grouped by invariant in `checked` order, at most maxViolationsPerInvariant each. */
  violations: Violation[];
  /** Every violation counted per invariant, including those beyond the cap. */
  counts: Record<InvariantName, number>;
  /** Caveats about what could not be checked (e.g. no quiesce event → durability's liveness half). */
  notes: string[];
}

const RUNNERS: Record<InvariantName, (index: HistoryIndex, options: CheckOptions, sink: ViolationSink) => void> = {
  durability: (index, _options, sink) => checkDurability(index, sink),
  order: (index, _options, sink) => checkOrder(index, sink),
  'no-duplicates': (index, _options, sink) => checkNoDuplicates(index, sink),
  receipts: (index, _options, sink) => checkReceipts(index, sink),
  presence: (index, options, sink) => checkPresence(index, options, sink),
  membership: (index, _options, sink) => checkMembership(index, sink),
};

/** Runs every invariant (or options.invariants) over one history, indexing it once. */
export function checkHistory(history: HistoryInput, options: CheckOptions = {}): CheckResult {
  const index = toIndex(history);
  const wanted = options.invariants ?? INVARIANT_NAMES;
  const checked = INVARIANT_NAMES.filter((name) => wanted.includes(name));
  const counts = Object.fromEntries(INVARIANT_NAMES.map((n) => [n, 0])) as Record<InvariantName, number>;
  const violations: Violation[] = [];
  const notes: string[] = [];
  for (const name of checked) {
    const sink = new ViolationSink(name, options.maxViolationsPerInvariant);
    RUNNERS[name](index, options, sink);
    counts[name] = sink.count;
    violations.push(...sink.violations);
  }
  if (checked.includes('durability') && index.lastQuiesce < 0) {
    notes.push('durability: no quiesce event in the history, so no delivery was owed (nothing checked)');
  }
  return { checked, violations, counts, notes };
}

import type { HistoryEvent } from './history.js';

/** The guarantees the checker verifies (docs/protocol.md §7). Latency is measured, not checked here. */
export type InvariantName = 'durability' | 'order' | 'no-duplicates' | 'receipts' | 'presence' | 'membership';

export const INVARIANT_NAMES: readonly InvariantName[] = ['durability', 'order', 'no-duplicates', 'receipts', 'presence', 'membership'];

/** One broken guarantee, with the few history events that show it. */
export interface Violation {
  invariant: InvariantName;
  message: string;
  conversationId?: string;
  userId?: string;
  deviceId?: string;
  seq?: number;
  clientMessageId?: string;
  /** The events that show the violation (at most MAX_WITNESS_EVENTS), in history order where it matters. */
  witness: HistoryEvent[];
}

export const MAX_WITNESS_EVENTS = 10;

/** Default cap on violations kept per invariant; all are still counted. */
export const DEFAULT_MAX_VIOLATIONS_PER_INVARIANT = 1000;

/**
 * Collects the violations of one invariant. Keeps at most `limit` of them (a badly broken run of
 * a few million events must not build millions of reports) but counts every one. The report is
 * built lazily, so violations past the cap cost only the count.
 */
export class ViolationSink {
  readonly violations: Violation[] = [];
  count = 0;

  constructor(
    readonly invariant: InvariantName,
    readonly limit: number = DEFAULT_MAX_VIOLATIONS_PER_INVARIANT,
  ) {}

  report(build: () => Omit<Violation, 'invariant'>): void {
    this.count += 1;
    if (this.violations.length >= this.limit) return;
    const v = build();
    const witness = v.witness.filter((e, i, all) => all.indexOf(e) === i).slice(0, MAX_WITNESS_EVENTS);
    const out: Violation = { invariant: this.invariant, message: v.message, witness };
    if (v.conversationId !== undefined) out.conversationId = v.conversationId;
    if (v.userId !== undefined) out.userId = v.userId;
    if (v.deviceId !== undefined) out.deviceId = v.deviceId;
    if (v.seq !== undefined) out.seq = v.seq;
    if (v.clientMessageId !== undefined) out.clientMessageId = v.clientMessageId;
    this.violations.push(out);
  }
}

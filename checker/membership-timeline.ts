import type { DeliverEvent, HistoryEvent } from './history.js';
import { directParticipants } from '../system/core/ids.js';

/**
 * Whether a user was a member of a conversation at a seq, as far as the history can tell.
 * `unknown` means the history holds no membership information that decides it; callers must
 * then not flag anything.
 */
export type MemberStatus = 'yes' | 'no' | 'unknown';

export interface MemberAnswer {
  status: MemberStatus;
  /** The membership event that decided the answer (the join, the removal, or `created`), when there is one. */
  evidence?: DeliverEvent;
}

interface Transition {
  seq: number;
  join: boolean;
  event: DeliverEvent;
}

interface GroupTimeline {
  created?: DeliverEvent;
  /** Per user, their joins and exits in seq order. */
  transitions: Map<string, Transition[]>;
}

/**
 * Per-conversation membership over seqs, reconstructed from the membership `deliver` events of
 * every device (the same seq is the same event on every device, so the union is the log's
 * membership history; if devices disagree about a seq, the first delivery seen wins and the
 * `order` invariant reports the disagreement).
 *
 * Rules:
 * - `dm:<a>:<b>`: a and b are members at every seq; nobody else ever is.
 * - groups: `created` (all initial members) and `added` start membership at their seq
 *   (inclusive); `removed` and `left` end it — the exit event at seq R is itself visible to the
 *   user leaving, so the member interval is [join, R] and seqs > R are not. `admin_granted` and
 *   `admin_revoked` do not change membership.
 * - A user with no observed transition at or before s: `no` when the group's `created` was
 *   observed (they were not an initial member and nobody added them yet), else `unknown`.
 */
export class MembershipTimeline {
  private readonly groups = new Map<string, GroupTimeline>();
  /** conversation → its 1:1 participants, or null for a group (parsed once per conversation). */
  private readonly directCache = new Map<string, readonly [string, string] | null>();

  /**
   * @param membershipDeliveries every membership `deliver` event of the history
   * @param unobservedSeqs per conversation, the seqs below its highest observed seq that nobody
   *   observed (ascending). A `no` answer rests on the absence of a later join, so it is given
   *   only when no unobserved seq lies between its evidence and the asked seq (an unseen `added`
   *   could hide there); otherwise the answer is `unknown`. Omitted: everything was observed.
   */
  constructor(
    membershipDeliveries: Iterable<DeliverEvent>,
    private readonly unobservedSeqs: ReadonlyMap<string, readonly number[]> = new Map(),
  ) {
    const bySeq = new Map<string, Map<number, DeliverEvent>>();
    for (const e of membershipDeliveries) {
      if (e.kind !== 'membership') continue;
      let seqs = bySeq.get(e.conversationId);
      if (!seqs) {
        seqs = new Map();
        bySeq.set(e.conversationId, seqs);
      }
      if (!seqs.has(e.seq)) seqs.set(e.seq, e);
    }
    for (const [conversationId, seqs] of bySeq) {
      const group: GroupTimeline = { transitions: new Map() };
      const ordered = [...seqs.values()].sort((a, b) => a.seq - b.seq);
      for (const e of ordered) {
        let join: boolean;
        switch (e.op) {
          case 'created':
            if (!group.created) group.created = e;
            join = true;
            break;
          case 'added':
            join = true;
            break;
          case 'removed':
          case 'left':
            join = false;
            break;
          default:
            continue;
        }
        for (const userId of e.memberUserIds ?? []) {
          let list = group.transitions.get(userId);
          if (!list) {
            list = [];
            group.transitions.set(userId, list);
          }
          list.push({ seq: e.seq, join, event: e });
        }
      }
      this.groups.set(conversationId, group);
    }
  }

  isMemberAt(conversationId: string, userId: string, seq: number): MemberStatus {
    // Same rules as membershipAt, without building an answer object (this is the hot path).
    const participants = this.direct(conversationId);
    if (participants) return participants[0] === userId || participants[1] === userId ? 'yes' : 'no';
    const group = this.groups.get(conversationId);
    if (!group) return 'unknown';
    const list = group.transitions.get(userId);
    const i = list ? lastAtOrBefore(list, seq) : -1;
    if (list && i >= 0) {
      const t = list[i]!;
      if (t.join || t.seq === seq) return 'yes';
      return this.hasUnobserved(conversationId, t.seq, seq) ? 'unknown' : 'no';
    }
    if (list && list.length > 0 && !list[0]!.join) return 'unknown';
    if (!group.created || group.created.seq > seq) return 'unknown';
    return this.hasUnobserved(conversationId, group.created.seq, seq) ? 'unknown' : 'no';
  }

  membershipAt(conversationId: string, userId: string, seq: number): MemberAnswer {
    const participants = this.direct(conversationId);
    if (participants) return { status: participants.includes(userId) ? 'yes' : 'no' };
    const group = this.groups.get(conversationId);
    if (!group) return { status: 'unknown' };
    const list = group.transitions.get(userId);
    const i = list ? lastAtOrBefore(list, seq) : -1;
    if (list && i >= 0) {
      const t = list[i]!;
      if (t.join || t.seq === seq) return { status: 'yes', evidence: t.event };
      return this.hasUnobserved(conversationId, t.seq, seq) ? { status: 'unknown' } : { status: 'no', evidence: t.event };
    }
    // Nothing observed for this user at or before seq.
    if (list && list.length > 0 && !list[0]!.join) {
      // Their first observed transition is an exit: they were a member before it, since an unobserved seq.
      return { status: 'unknown' };
    }
    if (group.created && group.created.seq <= seq && !this.hasUnobserved(conversationId, group.created.seq, seq)) {
      return { status: 'no', evidence: group.created };
    }
    return { status: 'unknown' };
  }

  /**
   * Whether the user was a member at any seq in [fromSeq, toSeq] (inclusive): `yes` if at some
   * seq in the range, `no` if known not at any, else `unknown`.
   */
  memberDuring(conversationId: string, userId: string, fromSeq: number, toSeq: number): MemberStatus {
    const atStart = this.isMemberAt(conversationId, userId, fromSeq);
    if (atStart === 'yes' || this.direct(conversationId)) return atStart;
    const list = this.groups.get(conversationId)?.transitions.get(userId);
    if (list) {
      const i = lastAtOrBefore(list, fromSeq) + 1;
      // Any transition inside (fromSeq, toSeq] makes them a member there: a join from its seq on,
      // an exit at its own seq.
      if (i < list.length && list[i]!.seq <= toSeq) return 'yes';
    }
    return atStart;
  }

  /**
   * Everyone who might be a member at some seq: both participants of a 1:1, every user named
   * by an observed membership event of a group; undefined when nothing is known.
   */
  candidateMembers(conversationId: string): readonly string[] | undefined {
    const participants = this.direct(conversationId);
    if (participants) return participants;
    const group = this.groups.get(conversationId);
    return group ? [...group.transitions.keys()] : undefined;
  }

  /** True when some seq in (afterSeq, uptoSeq] was observed by nobody. */
  private hasUnobserved(conversationId: string, afterSeq: number, uptoSeq: number): boolean {
    const holes = this.unobservedSeqs.get(conversationId);
    if (!holes || holes.length === 0) return false;
    // first hole > afterSeq
    let lo = 0;
    let hi = holes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (holes[mid]! <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo < holes.length && holes[lo]! <= uptoSeq;
  }

  private direct(conversationId: string): readonly [string, string] | null {
    let p = this.directCache.get(conversationId);
    if (p === undefined) {
      p = directParticipants(conversationId) ?? null;
      this.directCache.set(conversationId, p);
    }
    return p;
  }

  /** True when the user's membership event at exactly this seq is their exit (removed or left). */
  isExitAt(conversationId: string, userId: string, seq: number): boolean {
    const list = this.groups.get(conversationId)?.transitions.get(userId);
    if (!list) return false;
    const i = lastAtOrBefore(list, seq);
    return i >= 0 && list[i]!.seq === seq && !list[i]!.join;
  }
}

/** Builds the timeline from a history's membership deliveries and the seqs observed by anyone. */
export function buildMembershipTimeline(history: readonly HistoryEvent[]): MembershipTimeline {
  const deliveries: DeliverEvent[] = [];
  const observed = new Map<string, Set<number>>();
  for (const e of history) {
    if (e.type !== 'deliver' && e.type !== 'ack') continue;
    if (e.type === 'deliver' && e.kind === 'membership') deliveries.push(e);
    let seqs = observed.get(e.conversationId);
    if (!seqs) {
      seqs = new Set();
      observed.set(e.conversationId, seqs);
    }
    seqs.add(e.seq);
  }
  const unobserved = new Map<string, number[]>();
  for (const [conversationId, seqs] of observed) unobserved.set(conversationId, missingSeqs(seqs.keys()));
  return new MembershipTimeline(deliveries, unobserved);
}

/** The seqs in [1, highest] that are not among the given ones, ascending. */
export function missingSeqs(observed: Iterable<number>): number[] {
  const present = new Set<number>();
  let highest = 0;
  for (const s of observed) {
    if (!Number.isSafeInteger(s) || s < 1) continue;
    present.add(s);
    if (s > highest) highest = s;
  }
  const missing: number[] = [];
  if (highest - present.size > 0) for (let s = 1; s <= highest; s++) if (!present.has(s)) missing.push(s);
  return missing;
}

/** True when a membership delivery is the given user's own exit from the conversation. */
export function isExitOf(e: DeliverEvent, userId: string): boolean {
  return e.kind === 'membership' && (e.op === 'removed' || e.op === 'left') && (e.memberUserIds ?? []).includes(userId);
}

function lastAtOrBefore(list: readonly Transition[], seq: number): number {
  let lo = 0;
  let hi = list.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.seq <= seq) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

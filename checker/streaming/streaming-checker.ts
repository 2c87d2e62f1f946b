import type { AckEvent, DeliverEvent, HistoryEvent, PresenceObservedEvent, QuiesceEvent } from '../history.js';
import type { CheckResult } from '../index.js';
import { DEFAULT_PRESENCE_GRACE_MS, DEFAULT_PRESENCE_TTL_MS, type CheckOptions } from '../options.js';
import { INVARIANT_NAMES, ViolationSink, type InvariantName, type Violation } from '../violation.js';
import { SeqRanges } from './seq-ranges.js';

/**
 * The same invariants as checkHistory, checked while the history streams past, in memory that
 * grows with devices, conversations and messages — never with the number of events. The
 * simulator uses it for runs too large to keep whole (millions of users); small runs use
 * checkHistory itself, and a test runs both on the same histories to keep them in step.
 *
 * What it keeps: per device and conversation the seqs observed (as ranges: usually one), the
 * highest seq seen and the receipt watermarks it was shown; per conversation, per seq, a hash of
 * the event's identity, the ack time and the sending device; per group the membership spans from
 * membership events; per user the open connections (presence). Witnesses hold the events at hand
 * when the violation is seen (earlier events are not kept; the message names them).
 *
 * Differences from checkHistory, all on the lenient side: a seq's "same event on every device"
 * compares 32-bit identity hashes; presence `online: true` is judged when the grace has passed,
 * with the user's latest disconnect standing in for the connection that covers the TTL.
 */
export class StreamingChecker {
  private readonly devices = new Map<string, DeviceState>();
  private readonly deviceList: DeviceState[] = [];
  private readonly conversations = new Map<string, ConversationState>();
  private readonly users = new Map<string, UserPresence>();
  private readonly pendingOnline: PresenceObservedEvent[] = [];
  /** `online: false` observations waiting out the grace, with the connection starts that would make them wrong. */
  private readonly pendingOffline: Array<{ e: PresenceObservedEvent; surely: OpenConnection[] }> = [];
  /** Presence observations of the current instant, by observer and subject; and those replaced within their instant. */
  private sameInstantMs = Number.NaN;
  private readonly sameInstant = new Map<string, PresenceObservedEvent>();
  private readonly superseded = new WeakSet<PresenceObservedEvent>();
  private pendingHead = 0;
  private readonly sinks: Record<InvariantName, ViolationSink>;
  private readonly ttl: number;
  private readonly grace: number;
  private quiesce: QuiesceEvent | undefined;
  /** Acks after the last quiesce do not count; we remember the ack times and compare at the end. */
  eventsSeen = 0;

  constructor(private readonly options: CheckOptions = {}) {
    this.ttl = options.presenceTtlMs ?? DEFAULT_PRESENCE_TTL_MS;
    this.grace = options.presenceGraceMs ?? DEFAULT_PRESENCE_GRACE_MS;
    this.sinks = Object.fromEntries(INVARIANT_NAMES.map((n) => [n, new ViolationSink(n, options.maxViolationsPerInvariant)])) as Record<
      InvariantName,
      ViolationSink
    >;
  }

  observe(e: HistoryEvent): void {
    this.eventsSeen++;
    this.flushPresence(e.atMs);
    switch (e.type) {
      case 'device': {
        const d = this.device(e.userId, e.deviceId);
        if (d.linkedAtMs < 0) d.linkedAtMs = e.atMs;
        return;
      }
      case 'welcomed':
      case 'connect': {
        // A connection begins somewhere between its `welcomed` and its `connect` (checker/presence.ts).
        const d = this.device(e.userId, e.deviceId);
        if (d.connection) {
          if (e.type === 'connect' && d.connection.confirmed === Infinity) d.connection.confirmed = e.atMs;
          return;
        }
        d.connection = { start: e.atMs, confirmed: e.type === 'connect' ? e.atMs : Infinity };
        this.presenceOf(e.userId).open.push(d.connection);
        return;
      }
      case 'disconnect': {
        const d = this.device(e.userId, e.deviceId);
        const user = this.presenceOf(e.userId);
        const at = d.connection ? user.open.indexOf(d.connection) : -1;
        if (at >= 0) user.open.splice(at, 1);
        d.connection = undefined;
        user.lastDisconnectMs = e.atMs;
        return;
      }
      case 'send':
        this.onSend(e.userId, e.deviceId, e.conversationId, e.clientMessageId);
        return;
      case 'ack':
        this.onObservation(e);
        return;
      case 'deliver':
        this.onObservation(e);
        return;
      case 'receipt':
        this.onReceipt(e);
        return;
      case 'presence':
        this.onPresence(e);
        return;
      case 'quiesce':
        this.quiesce = e;
        return;
    }
  }

  finish(): CheckResult {
    this.flushPresence(Number.POSITIVE_INFINITY);
    this.checkGaps();
    const notes: string[] = [];
    if (this.quiesce) this.checkDurability(this.quiesce);
    else notes.push('durability: no quiesce event in the history, so no delivery was owed (nothing checked)');
    const wanted = this.options.invariants ?? INVARIANT_NAMES;
    const checked = INVARIANT_NAMES.filter((n) => wanted.includes(n));
    const counts = Object.fromEntries(INVARIANT_NAMES.map((n) => [n, checked.includes(n) ? this.sinks[n].count : 0])) as Record<
      InvariantName,
      number
    >;
    const violations: Violation[] = [];
    for (const n of checked) violations.push(...this.sinks[n].violations);
    return { checked, violations, counts, notes };
  }

  // ---------- state ----------

  private device(userId: string, deviceId: string): DeviceState {
    const key = `${userId}/${deviceId}`;
    let d = this.devices.get(key);
    if (!d) {
      d = { index: this.deviceList.length, key, userId, deviceId, linkedAtMs: -1, connection: undefined, conversations: EMPTY };
      this.devices.set(key, d);
      this.deviceList.push(d);
    }
    return d;
  }

  private deviceConversation(d: DeviceState, conversationId: string): DeviceConversation {
    let c = d.conversations.get(conversationId);
    if (!c) {
      if (d.conversations === EMPTY) d.conversations = new Map();
      c = { delivered: new SeqRanges(), acked: undefined, highest: 0, ackedHighest: 0, receipts: undefined };
      d.conversations.set(conversationId, c);
    }
    return c;
  }

  private conversation(conversationId: string): ConversationState {
    let c = this.conversations.get(conversationId);
    if (!c) {
      c = new ConversationState(conversationId);
      this.conversations.set(conversationId, c);
    }
    return c;
  }

  private presenceOf(userId: string): UserPresence {
    let u = this.users.get(userId);
    if (!u) {
      u = { open: [], lastDisconnectMs: Number.NEGATIVE_INFINITY };
      this.users.set(userId, u);
    }
    return u;
  }

  // ---------- sends, acks, deliveries ----------

  private onSend(userId: string, deviceId: string, conversationId: string, clientMessageId: string): void {
    const d = this.device(userId, deviceId);
    const c = this.deviceConversation(d, conversationId);
    const pending = (c.unacked ??= new Map());
    // Sender order: a message first sent after another was acked must get a higher seq.
    if (!pending.has(clientMessageId)) pending.set(clientMessageId, c.ackedHighest);
  }

  private onObservation(e: AckEvent | DeliverEvent): void {
    const d = this.device(e.userId, e.deviceId);
    const dc = this.deviceConversation(d, e.conversationId);
    const conv = this.conversation(e.conversationId);
    const identity = identityOf(e);
    const isAck = e.type === 'ack';

    // Same event on every device; one identity at one seq.
    const known = conv.identityAt(e.seq);
    if (known === 0) {
      conv.setIdentity(e.seq, identity);
      // Membership spans come from the first observation of each membership event.
      if (e.type === 'deliver' && e.kind === 'membership') conv.noteMembership(e);
      if (identity !== MEMBERSHIP_IDENTITY && isAckOrMessage(e)) {
        const other = conv.seqOfIdentity(identity);
        if (other !== undefined && other !== e.seq) {
          this.sinks['no-duplicates'].report(() => ({
            message: `message ${clientMessageIdOf(e)} of ${e.conversationId} was stored at seq ${other} and again at seq ${e.seq}`,
            conversationId: e.conversationId,
            seq: e.seq,
            ...withClientMessageId(e),
            witness: [e],
          }));
        } else {
          conv.noteIdentity(identity, e.seq);
        }
      }
    } else if (known !== identity) {
      this.sinks.order.report(() => ({
        message: `seq ${e.seq} of ${e.conversationId} is a different event at ${d.key} (${describe(e)}) than where it was first observed`,
        conversationId: e.conversationId,
        userId: e.userId,
        deviceId: e.deviceId,
        seq: e.seq,
        ...withClientMessageId(e),
        witness: [e],
      }));
    }
    if (e.type === 'deliver' && e.kind === 'message') this.checkMemberAtDelivery(e, conv);

    const seenDelivered = dc.delivered.has(e.seq);
    const seenAcked = dc.acked?.has(e.seq) ?? false;
    if (isAck) {
      if (!seenAcked) (dc.acked ??= new SeqRanges()).add(e.seq);
      if (e.seq > dc.ackedHighest) dc.ackedHighest = e.seq;
      // First ack of this message: durability owes it from now; sender order is checked.
      const floor = dc.unacked?.get(e.clientMessageId);
      if (floor !== undefined) {
        dc.unacked!.delete(e.clientMessageId);
        if (e.seq <= floor) {
          this.sinks.order.report(() => ({
            message: `${d.key} sent ${e.clientMessageId} after its message at seq ${floor} of ${e.conversationId} was acked, but it got seq ${e.seq}`,
            conversationId: e.conversationId,
            userId: e.userId,
            deviceId: e.deviceId,
            seq: e.seq,
            clientMessageId: e.clientMessageId,
            witness: [e],
          }));
        }
      }
      if (!conv.isAcked(e.seq)) conv.setAck(e.seq, e.atMs, d.index);
      if (!this.isMemberAt(conv, e.userId, e.seq, 'no-ack')) {
        this.sinks.membership.report(() => ({
          message: `${d.key} had message ${e.clientMessageId} acked at seq ${e.seq} of ${e.conversationId} while not a member`,
          conversationId: e.conversationId,
          userId: e.userId,
          deviceId: e.deviceId,
          seq: e.seq,
          clientMessageId: e.clientMessageId,
          witness: [e],
        }));
      }
    } else if (seenDelivered) {
      this.sinks['no-duplicates'].report(() => ({
        message: `${d.key} was handed seq ${e.seq} of ${e.conversationId} twice`,
        conversationId: e.conversationId,
        userId: e.userId,
        deviceId: e.deviceId,
        seq: e.seq,
        ...withClientMessageId(e),
        witness: [e],
      }));
    } else {
      dc.delivered.add(e.seq);
    }
    if (seenDelivered || seenAcked) return; // a re-observation: not an ordering question
    if (e.seq > dc.highest) {
      dc.highest = e.seq;
      return;
    }
    this.sinks.order.report(() => ({
      message: `${d.key} observed seq ${e.seq} of ${e.conversationId} after seq ${dc.highest} (${describe(e)})`,
      conversationId: e.conversationId,
      userId: e.userId,
      deviceId: e.deviceId,
      seq: e.seq,
      ...withClientMessageId(e),
      witness: [e],
    }));
  }

  private checkMemberAtDelivery(e: DeliverEvent, conv: ConversationState): void {
    if (this.isMemberAt(conv, e.userId, e.seq, 'deliver')) return;
    this.sinks.membership.report(() => ({
      message: `${e.userId}/${e.deviceId} received seq ${e.seq} of ${e.conversationId} while not a member`,
      conversationId: e.conversationId,
      userId: e.userId,
      deviceId: e.deviceId,
      seq: e.seq,
      ...withClientMessageId(e),
      witness: [e],
    }));
  }

  /** False only when membership information says "not a member" (unknown counts as member). */
  private isMemberAt(conv: ConversationState, userId: string, seq: number, _why: string): boolean {
    return conv.memberAt(userId, seq) !== 'no';
  }

  // ---------- receipts ----------

  private onReceipt(e: Extract<HistoryEvent, { type: 'receipt' }>): void {
    const observer = this.device(e.userId, e.deviceId);
    const dc = this.deviceConversation(observer, e.conversationId);
    const key = `${e.byUserId}/${e.byDeviceId}/${e.state}`;
    const marks = (dc.receipts ??= new Map());
    const previous = marks.get(key);
    if (previous === undefined || e.upToSeq >= previous) {
      marks.set(key, e.upToSeq);
    } else {
      this.sinks.receipts.report(() => ({
        message: `${observer.key} saw ${e.byUserId}/${e.byDeviceId}'s ${e.state} watermark in ${e.conversationId} go back from ${previous} to ${e.upToSeq}`,
        conversationId: e.conversationId,
        userId: e.byUserId,
        deviceId: e.byDeviceId,
        seq: e.upToSeq,
        witness: [e],
      }));
    }
    if (e.upToSeq < 1) return;
    const by = this.devices.get(`${e.byUserId}/${e.byDeviceId}`);
    if (!by) return;
    const byConv = by.conversations.get(e.conversationId);
    const observedUpTo = Math.max(byConv?.delivered.max ?? 0, byConv?.acked?.max ?? 0);
    if (observedUpTo >= e.upToSeq) return;
    const conv = this.conversations.get(e.conversationId);
    if (!conv || conv.memberAt(e.byUserId, e.upToSeq) !== 'yes') return;
    this.sinks.receipts.report(() => ({
      message:
        `${e.byUserId}/${e.byDeviceId} reported ${e.state} up to seq ${e.upToSeq} of ${e.conversationId} (seen by ${observer.key} at ${e.atMs} ms) ` +
        `but had observed only up to seq ${observedUpTo}`,
      conversationId: e.conversationId,
      userId: e.byUserId,
      deviceId: e.byDeviceId,
      seq: e.upToSeq,
      witness: [e],
    }));
  }

  // ---------- presence ----------

  private onPresence(e: PresenceObservedEvent): void {
    this.noteSameInstant(e);
    if (e.online) {
      // Judged once the grace has passed: a connection may still begin within it.
      this.pendingOnline.push(e);
      return;
    }
    const user = this.users.get(e.subjectUserId);
    if (!user) return;
    // Judged once the grace has passed: the connection may still be recorded as closed within it.
    const surely = user.open.filter((c) => c.confirmed <= e.atMs - this.grace);
    if (surely.length > 0) this.pendingOffline.push({ e, surely });
  }

  private flushPresence(nowMs: number): void {
    if (this.pendingOffline.length > 0) this.flushOffline(nowMs);
    const pending = this.pendingOnline;
    while (this.pendingHead < pending.length && pending[this.pendingHead]!.atMs + this.grace < nowMs) {
      const e = pending[this.pendingHead++]!;
      if (this.superseded.has(e)) continue;
      const user = this.users.get(e.subjectUserId);
      if (!user || !this.hasDevices(e.subjectUserId)) continue;
      const t = e.atMs;
      if (user.open.some((c) => c.start <= t + this.grace)) continue;
      if (user.lastDisconnectMs >= t - this.ttl - this.grace) continue;
      this.sinks.presence.report(() => ({
        message: `${e.userId}/${e.deviceId} was shown ${e.subjectUserId} online at ${t} ms, but ${e.subjectUserId} had no connection within the TTL (${this.ttl} ms, grace ${this.grace} ms)`,
        userId: e.subjectUserId,
        witness: [e],
      }));
    }
    if (this.pendingHead > 4096 && this.pendingHead * 2 > pending.length) {
      pending.splice(0, this.pendingHead);
      this.pendingHead = 0;
    }
  }

  /**
   * An offline observation is wrong if a connection open since before t − grace is still open
   * after t + grace. Observations arrive in time order, so only the oldest ones can be due.
   */
  private flushOffline(nowMs: number): void {
    const pending = this.pendingOffline;
    let head = 0;
    while (head < pending.length && pending[head]!.e.atMs + this.grace < nowMs) {
      const { e, surely } = pending[head++]!;
      if (this.superseded.has(e)) continue;
      const open = this.users.get(e.subjectUserId)?.open ?? [];
      const still = surely.find((c) => open.includes(c));
      if (still === undefined) continue;
      this.sinks.presence.report(() => ({
        message: `${e.userId}/${e.deviceId} was shown ${e.subjectUserId} offline at ${e.atMs} ms, but a device of ${e.subjectUserId} has been connected since ${still.confirmed} ms`,
        userId: e.subjectUserId,
        witness: [e],
      }));
    }
    if (head > 0) pending.splice(0, head);
  }

  /** A later observation of the same subject by the same device at the same instant replaces this one (checker/presence.ts, replacedAtSameInstant). */
  private noteSameInstant(e: PresenceObservedEvent): void {
    if (e.atMs !== this.sameInstantMs) {
      this.sameInstantMs = e.atMs;
      this.sameInstant.clear();
    }
    const key = `${e.userId}/${e.deviceId} ${e.subjectUserId}`;
    const earlier = this.sameInstant.get(key);
    if (earlier) this.superseded.add(earlier);
    this.sameInstant.set(key, e);
  }

  private hasDevices(userId: string): boolean {
    return this.users.has(userId);
  }

  // ---------- at the end ----------

  /** No gaps while a member: between a device's lowest and highest observed seq. */
  private checkGaps(): void {
    for (const d of this.deviceList) {
      for (const [conversationId, dc] of d.conversations) {
        const observed = dc.acked ? SeqRanges.union(dc.delivered, dc.acked) : dc.delivered;
        const conv = this.conversations.get(conversationId);
        observed.forEachHole((from, to) => {
          const status = conv ? conv.memberDuring(d.userId, from, to) : 'unknown';
          if (status === 'no') return;
          this.sinks.order.report(() => ({
            message: `${d.key} never observed seq ${from === to ? from : `${from}–${to}`} of ${conversationId} although it observed seqs on both sides`,
            conversationId,
            userId: d.userId,
            deviceId: d.deviceId,
            seq: from,
            witness: [],
          }));
        });
      }
    }
  }

  /** Every acked message (before the quiesce) reached every quiesced device owed it. */
  private checkDurability(quiesce: QuiesceEvent): void {
    const quiesced = new Set<DeviceState>();
    for (const q of quiesce.devices) {
      const d = this.devices.get(`${q.userId}/${q.deviceId}`);
      if (d && d.linkedAtMs >= 0) quiesced.add(d);
    }
    const byUser = new Map<string, DeviceState[]>();
    for (const d of quiesced) {
      let list = byUser.get(d.userId);
      if (!list) byUser.set(d.userId, (list = []));
      list.push(d);
    }
    for (const conv of this.conversations.values()) {
      const members = conv.candidateMembers();
      if (!members) continue;
      for (const userId of members) {
        const owed = byUser.get(userId);
        if (!owed) continue;
        for (const d of owed) {
          const dc = d.conversations.get(conv.id);
          conv.forEachAck(quiesce.atMs, (seq, ackAtMs, senderIndex) => {
            if (d.linkedAtMs > ackAtMs || senderIndex === d.index) return;
            if (conv.memberAt(userId, seq) !== 'yes') return;
            if (dc && (dc.delivered.has(seq) || dc.acked?.has(seq))) return;
            const sender = this.deviceList[senderIndex]!;
            this.sinks.durability.report(() => ({
              message:
                `the message acked at seq ${seq} of ${conv.id} (sent by ${sender.key} at ${ackAtMs} ms) was never delivered to ${d.key} ` +
                `(linked at ${d.linkedAtMs} ms, member at that seq, quiesced at ${quiesce.atMs} ms)`,
              conversationId: conv.id,
              userId: d.userId,
              deviceId: d.deviceId,
              seq,
              witness: [quiesce],
            }));
          });
        }
      }
    }
  }
}

/** Shared by devices that observed nothing yet (most of a large population at any moment). */
const EMPTY: Map<string, DeviceConversation> = new Map();

interface DeviceState {
  index: number;
  key: string;
  userId: string;
  deviceId: string;
  linkedAtMs: number;
  /** The device's open connection, if any. */
  connection: OpenConnection | undefined;
  conversations: Map<string, DeviceConversation>;
}

/** A connection that began between `start` (welcomed) and `confirmed` (connect; Infinity until then). */
interface OpenConnection {
  start: number;
  confirmed: number;
}

interface DeviceConversation {
  delivered: SeqRanges;
  acked: SeqRanges | undefined;
  /** Highest seq first observed so far (the "strictly increasing" check). */
  highest: number;
  ackedHighest: number;
  /** clientMessageId → the device's highest acked seq when it was first sent. */
  unacked?: Map<string, number>;
  /** "byUser/byDevice/state" → highest upToSeq shown to this device. */
  receipts: Map<string, number> | undefined;
}

interface UserPresence {
  /** The user's open connections. */
  open: OpenConnection[];
  lastDisconnectMs: number;
}

const MEMBERSHIP_IDENTITY = 1;

/** Per conversation: per seq the event's identity hash, ack time and sender; group membership spans. */
class ConversationState {
  private identities = new Int32Array(8);
  private ackAt = new Float64Array(8).fill(Number.NaN);
  private ackSender = new Int32Array(8);
  private identitySeq: Map<number, number> | undefined;
  private readonly direct: [string, string] | undefined;
  /** Group: user → [from, to] seq spans (to = Infinity while a member). */
  private spans: Map<string, Array<[number, number]>> | undefined;
  /** Group: the seqs at which each user joined and left, as observed (any order). */
  private membershipChanges: Map<string, { joins: Set<number>; exits: Set<number> }> | undefined;

  constructor(readonly id: string) {
    if (id.startsWith('dm:')) {
      const [, a, b] = id.split(':');
      this.direct = [a!, b!];
    }
  }

  identityAt(seq: number): number {
    return seq < this.identities.length ? this.identities[seq]! : 0;
  }

  setIdentity(seq: number, identity: number): void {
    this.ensure(seq);
    this.identities[seq] = identity;
  }

  seqOfIdentity(identity: number): number | undefined {
    return this.identitySeq?.get(identity);
  }

  noteIdentity(identity: number, seq: number): void {
    (this.identitySeq ??= new Map()).set(identity, seq);
  }

  isAcked(seq: number): boolean {
    return seq < this.ackAt.length && !Number.isNaN(this.ackAt[seq]!);
  }

  setAck(seq: number, atMs: number, senderIndex: number): void {
    this.ensure(seq);
    this.ackAt[seq] = atMs;
    this.ackSender[seq] = senderIndex;
  }

  forEachAck(beforeMs: number, visit: (seq: number, atMs: number, senderIndex: number) => void): void {
    for (let seq = 1; seq < this.ackAt.length; seq++) {
      const at = this.ackAt[seq]!;
      if (!Number.isNaN(at) && at <= beforeMs) visit(seq, at, this.ackSender[seq]!);
    }
  }

  /**
   * Membership events may be observed out of seq order (one device sees a removal before another
   * device's copy of the creation is recorded), so spans are rebuilt from every join and exit seen
   * for the user: each join's span ends at the first exit after it.
   */
  noteMembership(e: DeliverEvent): void {
    const users = e.memberUserIds ?? [];
    const spans = (this.spans ??= new Map<string, Array<[number, number]>>());
    const joining = e.op === 'created' || e.op === 'added';
    const leaving = e.op === 'removed' || e.op === 'left';
    if (!joining && !leaving) return;
    const changes = (this.membershipChanges ??= new Map<string, { joins: Set<number>; exits: Set<number> }>());
    for (const u of users) {
      let seen = changes.get(u);
      if (!seen) changes.set(u, (seen = { joins: new Set(), exits: new Set() }));
      (joining ? seen.joins : seen.exits).add(e.seq);
      const exits = [...seen.exits].sort((a, b) => a - b);
      const rebuilt: Array<[number, number]> = [...seen.joins]
        .sort((a, b) => a - b)
        // The exit event itself is visible to the leaving user.
        .map((from) => [from, exits.find((exit) => exit > from) ?? Number.POSITIVE_INFINITY]);
      if (rebuilt.length > 0) spans.set(u, rebuilt);
    }
  }

  memberAt(userId: string, seq: number): 'yes' | 'no' | 'unknown' {
    if (this.direct) return this.direct[0] === userId || this.direct[1] === userId ? 'yes' : 'no';
    if (!this.spans) return 'unknown';
    const list = this.spans.get(userId);
    if (!list) return this.hasCreation() ? 'no' : 'unknown';
    for (const [from, to] of list) if (seq >= from && seq <= to) return 'yes';
    return this.hasCreation() ? 'no' : 'unknown';
  }

  memberDuring(userId: string, from: number, to: number): 'yes' | 'no' | 'unknown' {
    let sawNo = false;
    for (let s = from; s <= Math.min(to, from + 64); s++) {
      const status = this.memberAt(userId, s);
      if (status === 'yes') return 'yes';
      if (status === 'no') sawNo = true;
    }
    return sawNo ? 'no' : 'unknown';
  }

  candidateMembers(): Iterable<string> | undefined {
    if (this.direct) return this.direct;
    return this.spans?.keys();
  }

  private hasCreation(): boolean {
    for (const list of this.spans!.values()) if (list.some(([from]) => from === 1)) return true;
    return false;
  }

  private ensure(seq: number): void {
    if (seq < this.identities.length) return;
    let size = this.identities.length;
    while (size <= seq) size *= 2;
    const identities = new Int32Array(size);
    identities.set(this.identities);
    this.identities = identities;
    const ackAt = new Float64Array(size).fill(Number.NaN);
    ackAt.set(this.ackAt);
    this.ackAt = ackAt;
    const ackSender = new Int32Array(size);
    ackSender.set(this.ackSender);
    this.ackSender = ackSender;
  }
}

function isAckOrMessage(e: AckEvent | DeliverEvent): boolean {
  return e.type === 'ack' || e.kind === 'message';
}

/** A 32-bit hash of what a seq holds: the message identity, or a fixed value for membership events. */
function identityOf(e: AckEvent | DeliverEvent): number {
  if (e.type === 'deliver' && e.kind === 'membership') return MEMBERSHIP_IDENTITY;
  const user = e.type === 'ack' ? e.userId : (e.senderUserId ?? '');
  const device = e.type === 'ack' ? e.deviceId : (e.senderDeviceId ?? '');
  let h = 0x811c9dc5;
  const mix = (s: string) => {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0x2f, 0x01000193);
  };
  mix(user);
  mix(device);
  mix(e.clientMessageId ?? '');
  h |= 0;
  return h === 0 || h === MEMBERSHIP_IDENTITY ? 2 : h;
}

function clientMessageIdOf(e: AckEvent | DeliverEvent): string {
  return e.clientMessageId ?? '?';
}

function withClientMessageId(e: AckEvent | DeliverEvent): { clientMessageId?: string } {
  return e.clientMessageId !== undefined ? { clientMessageId: e.clientMessageId } : {};
}

function describe(e: AckEvent | DeliverEvent): string {
  if (e.type === 'ack') return `own message ${e.clientMessageId}`;
  if (e.kind === 'membership') return `membership ${e.op ?? '?'}`;
  return `message ${e.clientMessageId ?? '?'} from ${e.senderUserId ?? '?'}/${e.senderDeviceId ?? '?'}`;
}

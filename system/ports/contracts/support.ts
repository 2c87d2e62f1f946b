/**
 * Shared pieces of the port contract suites: subject lifecycle, run-unique ids, event builders,
 * and waiting for asynchronous effects.
 *
 * These suites are test code that happens to live beside the ports (so every world's adapters can
 * import them); they are not core code. They may run against a shared real database that nobody
 * clears between tests or runs, so every test names its own users, devices and conversations with
 * ids that carry a random per-run nonce.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, vi } from 'vitest';
import type { ChatMessageEvent, ConversationEvent, MembershipEvent } from '../../core/events.js';
import {
  directConversationId,
  groupConversationId,
  type ConversationId,
  type DeviceAddress,
  type Seq,
  type UserId,
} from '../../core/ids.js';

/** What every factory may return besides the implementation under test. */
export interface Disposable {
  /** Called once after the suite's last test (close clients, stop servers). */
  cleanup?: () => Promise<void>;
}

/**
 * Moves time for ports with time semantics. Memory adapters pass a ManualClock's advance;
 * adapters of real services (Redis expires keys in real time) pass a real sleep.
 */
export interface TimeControl {
  advance(ms: number): Promise<void>;
}

/**
 * Runs the factory once per suite (beforeAll) and its cleanup after the suite (afterAll).
 * Tests share the subject; they stay independent by using ids nobody else uses.
 */
export function useSubject<T extends Disposable>(make: () => Promise<T>): () => T {
  let subject: T | undefined;
  beforeAll(async () => {
    subject = await make();
  });
  afterAll(async () => {
    await subject?.cleanup?.();
  });
  return () => {
    if (!subject) throw new Error('the contract factory did not produce a subject');
    return subject;
  };
}

// Random per run, so ids never meet rows left in a shared database by earlier runs.
const runNonce = randomBytes(6).toString('hex');
let counter = 0;

/** Lowercase hex, unique within this run and (with overwhelming probability) across runs. */
export function uniqueHex(): string {
  counter += 1;
  return `${runNonce}${counter.toString(16).padStart(6, '0')}`;
}

export function uniqueUserId(label = 'u'): UserId {
  return `${label}-${uniqueHex()}`;
}

export function uniqueDevice(userId: UserId = uniqueUserId(), deviceId = 'phone'): DeviceAddress {
  return { userId, deviceId };
}

export function uniqueGroupId(): ConversationId {
  return groupConversationId(uniqueHex());
}

export function uniqueDirectId(): ConversationId {
  return directConversationId(uniqueUserId('a'), uniqueUserId('b'));
}

export const BASE_TIME_MS = 1_700_000_000_000;

/** Base64 of `n` bytes covering every byte value, deterministic. */
export function bytesBase64(n: number, salt = 0): string {
  return patternBytes(n, salt).toString('base64');
}

export function patternBytes(n: number, salt = 0): Buffer {
  const bytes = Buffer.alloc(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 31 + salt * 7 + (i >> 8)) & 0xff;
  return bytes;
}

export function chatDraft(
  conversationId: ConversationId,
  fields: Partial<Omit<ChatMessageEvent, 'kind' | 'conversationId' | 'seq'>> = {},
): Omit<ChatMessageEvent, 'seq'> {
  return {
    kind: 'message',
    conversationId,
    senderUserId: 'alice',
    senderDeviceId: 'phone',
    clientMessageId: `cm-${uniqueHex()}`,
    bodyBase64: bytesBase64(16),
    serverTimeMs: BASE_TIME_MS,
    ...fields,
  };
}

export function membershipDraft(
  conversationId: ConversationId,
  fields: Partial<Omit<MembershipEvent, 'kind' | 'conversationId' | 'seq'>> = {},
): Omit<MembershipEvent, 'seq'> {
  return {
    kind: 'membership',
    conversationId,
    op: 'added',
    actorUserId: 'alice',
    userIds: ['bob'],
    serverTimeMs: BASE_TIME_MS,
    ...fields,
  };
}

/** A stored chat message event (for stores that hold events appended elsewhere). */
export function chatEvent(
  conversationId: ConversationId,
  seq: Seq,
  fields: Partial<Omit<ChatMessageEvent, 'kind' | 'conversationId' | 'seq'>> = {},
): ChatMessageEvent {
  return { ...chatDraft(conversationId, { clientMessageId: `cm-${seq}`, serverTimeMs: BASE_TIME_MS + seq, ...fields }), seq };
}

export function membershipEvent(
  conversationId: ConversationId,
  seq: Seq,
  fields: Partial<Omit<MembershipEvent, 'kind' | 'conversationId' | 'seq'>> = {},
): MembershipEvent {
  return { ...membershipDraft(conversationId, { serverTimeMs: BASE_TIME_MS + seq, ...fields }), seq };
}

export function seqsOf(events: readonly ConversationEvent[]): Seq[] {
  return events.map((e) => e.seq);
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/** Code-unit order, the order stores promise for ids (all ids are ASCII). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Retries `assertion` until it passes or `timeoutMs` elapses. Memory adapters pass at once;
 * real services may take a moment (key expiry, pub/sub).
 */
export function eventually<T>(assertion: () => T | Promise<T>, timeoutMs: number): Promise<T> {
  return vi.waitFor(assertion, { timeout: timeoutMs, interval: 20 });
}

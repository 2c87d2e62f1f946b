import type { ChatMessageEvent, ConversationEvent, MembershipEvent } from '../../system/core/events.js';
import { ManualClock } from '../../system/adapters/virtual/manual-clock.js';
import { SeededRandom } from '../../system/adapters/virtual/seeded-random.js';
import { ChatClient } from '../client.js';
import type { ChatClientError } from '../errors.js';
import { HistoryRecorder } from '../history-recorder.js';
import type { ChatClientOptions } from '../options.js';
import { FakeNetwork, type FakeConnection } from './fake-transport.js';

/** Lets pending promise chains settle (setImmediate runs after the microtask queue drains). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export const HEARTBEAT_MS = 30_000;

export function welcomeFrame(clock: ManualClock, userId = 'alice', deviceId = 'phone') {
  return {
    type: 'welcome' as const,
    v: 1,
    userId,
    deviceId,
    nodeId: 'node-1',
    serverTimeMs: clock.nowMs(),
    heartbeatIntervalMs: HEARTBEAT_MS,
    limits: {},
  };
}

export function message(conversationId: string, seq: number, from = 'bob'): ChatMessageEvent {
  return {
    kind: 'message',
    conversationId,
    seq,
    senderUserId: from,
    senderDeviceId: `${from}-phone`,
    clientMessageId: `${from}-phone-${seq}`,
    bodyBase64: Buffer.from(`message ${seq}`).toString('base64'),
    serverTimeMs: 1_000_000 + seq,
  };
}

export function membership(conversationId: string, seq: number, op: MembershipEvent['op'], userIds: string[]): MembershipEvent {
  return { kind: 'membership', conversationId, seq, op, actorUserId: 'bob', userIds, serverTimeMs: 1_000_000 + seq };
}

export function eventFrame(event: ConversationEvent) {
  return { type: 'event' as const, event };
}

/** A client wired to a fake network, a manual clock and a history recorder. */
export function setup(options: Partial<ChatClientOptions> = {}) {
  const clock = new ManualClock(1_000_000);
  const net = new FakeNetwork();
  const history = new HistoryRecorder();
  const client = new ChatClient({
    urls: ['ws://a', 'ws://b'],
    token: 'tok',
    clock,
    random: new SeededRandom(7),
    transportFactory: net.factory,
    history,
    ...options,
  });
  const errors: ChatClientError[] = [];
  const events: Array<{ event: ConversationEvent; via: string }> = [];
  client.on('error', (error) => errors.push(error));
  client.on('event', (event, via) => events.push({ event, via }));
  return { clock, net, history, client, errors, events, seqs: () => events.map((e) => e.event.seq) };
}

export type Harness = ReturnType<typeof setup>;

/** Lets the client open its next connection and answers its auth with a welcome. */
export async function acceptConnection(t: Harness): Promise<FakeConnection> {
  await flush();
  const connection = t.net.last;
  connection.push(welcomeFrame(t.clock));
  await flush();
  return connection;
}

/** setup() + connect() + welcome. */
export async function connected(options: Partial<ChatClientOptions> = {}) {
  const t = setup(options);
  const connecting = t.client.connect();
  const conn = await acceptConnection(t);
  await connecting;
  return { ...t, conn };
}

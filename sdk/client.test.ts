import { describe, expect, it } from 'vitest';
import { directConversationId } from '../system/core/ids.js';
import type { ResetInfo } from './client.js';
import { ChatClientError } from './errors.js';
import type { ChatClientOptions } from './options.js';
import {
  acceptConnection,
  connected,
  eventFrame,
  flush,
  HEARTBEAT_MS,
  membership,
  message,
  setup,
  welcomeFrame,
  type Harness,
} from './testing/harness.js';

const DM = directConversationId('alice', 'bob');
const GROUP = 'grp:0123456789abcdef';

function sentFrame(conversationId: string, clientMessageId: string, seq: number, rid?: string) {
  return { type: 'sent' as const, rid, conversationId, clientMessageId, seq, serverTimeMs: 2_000_000, duplicate: false };
}

/** The server's `queued` answer to a send frame the client wrote (logged in a write-ahead log, no seq yet). */
function queuedFrame(conversationId: string, send: Record<string, unknown>) {
  return {
    type: 'queued' as const,
    rid: send.rid as string,
    conversationId,
    clientMessageId: String(send.clientMessageId),
    serverTimeMs: 2_000_000,
    duplicate: false,
  };
}

/**
 * The client asked for one sync of DM from its link point; answered with our own message at seq 1
 * and another at seq 2, the send resolves with seq 1 and the app sees seq 2 only.
 */
async function expectLinkSyncToAnswerOwnSend(
  t: Awaited<ReturnType<typeof connected>>,
  send: Record<string, unknown>,
  sending: Promise<unknown>,
) {
  const syncs = t.conn.framesOfType('sync');
  expect(syncs).toEqual([{ type: 'sync', rid: expect.any(String), conversationId: DM, afterSeq: 0, fromLink: true }]);
  const own = { ...message(DM, 1, 'alice'), senderDeviceId: 'phone', clientMessageId: String(send.clientMessageId) };
  t.conn.push({ type: 'sync_result', rid: syncs[0]!.rid, conversationId: DM, events: [own, message(DM, 2)], hasMore: false, lastSeq: 2 });
  await expect(sending).resolves.toMatchObject({ seq: 1 });
  expect(t.seqs()).toEqual([2]);
}

/** A client whose token provider numbers its tokens, connected once and then dropped (1006). */
async function connectedThenDropped() {
  let calls = 0;
  const t = setup({ token: async () => `token-${++calls}` });
  const connecting = t.client.connect();
  await acceptConnection(t);
  await connecting;
  t.net.last.drop(1006);
  return t;
}

describe('connect', () => {
  it('authenticates with the protocol version and token, then reports connected', async () => {
    const t = setup();
    const welcomes: string[] = [];
    t.client.on('connected', (w) => welcomes.push(w.nodeId));
    const connecting = t.client.connect();
    await flush();
    expect(t.net.last.url).toBe('ws://a');
    expect(t.net.last.sent).toEqual([{ type: 'auth', v: 1, token: 'tok' }]);
    expect(t.client.state).toBe('authenticating');
    t.net.last.push(welcomeFrame(t.clock));
    const welcome = await connecting;
    expect(welcome.userId).toBe('alice');
    expect(t.client.state).toBe('connected');
    expect(t.client.deviceId).toBe('phone');
    expect(welcomes).toEqual(['node-1']);
    // A second connect() while connected answers at once.
    await expect(t.client.connect()).resolves.toBe(welcome);
    t.client.close();
  });

  it('asks a token provider for a token on every attempt', async () => {
    const t = await connectedThenDropped();
    await t.clock.advance(1_000);
    expect(t.net.last.sent[0]).toEqual({ type: 'auth', v: 1, token: 'token-2' });
    t.client.close();
  });

  it('rejects with the typed error of the error frame and stops for good', async () => {
    const t = setup();
    const connecting = t.client.connect();
    await flush();
    t.net.last.push({ type: 'error', code: 'TOKEN_INVALID', message: 'bad signature', retryable: false, inReplyTo: 'auth' });
    const error = await connecting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatClientError);
    expect(error).toMatchObject({ code: 'TOKEN_INVALID', retryable: false, message: 'bad signature' });
    expect(t.client.state).toBe('closed');
    expect(t.net.last.closedByClient).toBeDefined();
    expect(t.clock.pendingTimers).toBe(0);
    await expect(t.client.connect()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('reports TOKEN_EXPIRED on the first connect', async () => {
    const t = setup({ token: async () => 'old' });
    const connecting = t.client.connect();
    await flush();
    t.net.last.push({ type: 'error', code: 'TOKEN_EXPIRED', message: 'expired', retryable: false, inReplyTo: 'auth' });
    await expect(connecting).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
  });

  it('retries failed attempts with backoff, cycling through the urls', async () => {
    const t = setup();
    t.net.failOpens = 2;
    const connecting = t.client.connect();
    await flush();
    expect(t.net.connections.map((c) => c.url)).toEqual(['ws://a']);
    expect(t.client.state).toBe('reconnecting');
    await t.clock.advance(250); // first backoff is within [125, 250]
    expect(t.net.connections.map((c) => c.url)).toEqual(['ws://a', 'ws://b']);
    await t.clock.advance(500); // second within [250, 500]
    expect(t.net.connections.map((c) => c.url)).toEqual(['ws://a', 'ws://b', 'ws://a']);
    t.net.last.push(welcomeFrame(t.clock));
    await connecting;
    expect(t.errors.map((e) => e.code)).toEqual(['CONNECT_FAILED', 'CONNECT_FAILED']);
    t.client.close();
  });

  it('backs off further when welcomed connections keep dropping at once', async () => {
    const t = await connected();
    t.conn.drop(1006);
    await t.clock.advance(250); // first reconnect: within [125, 250]
    await acceptConnection(t);
    t.net.last.drop(1006); // dropped again right away: a flap
    await t.clock.advance(249);
    expect(t.net.connections).toHaveLength(2);
    await t.clock.advance(251); // second: within [250, 500]
    expect(t.net.connections).toHaveLength(3);
    await acceptConnection(t);
    await t.clock.advance(20_000); // stable now
    t.net.last.drop(1006);
    await t.clock.advance(250); // back to the first step
    expect(t.net.connections).toHaveLength(4);
    t.client.close();
  });

  it('gives up after maxReconnectAttempts', async () => {
    const t = setup({ maxReconnectAttempts: 3 });
    t.net.failOpens = 10;
    const connecting = t.client.connect();
    const outcome = connecting.catch((e: unknown) => e);
    await t.clock.advance(60_000);
    expect(await outcome).toMatchObject({ code: 'CONNECT_FAILED', retryable: false });
    expect(t.net.connections).toHaveLength(3);
    expect(t.client.state).toBe('closed');
    expect(t.clock.pendingTimers).toBe(0);
  });

  it('times out an attempt that never gets a welcome', async () => {
    const t = setup({ connectTimeoutMs: 5_000 });
    void t.client.connect();
    await flush();
    await t.clock.advance(5_000);
    expect(t.errors[0]).toMatchObject({ code: 'TIMEOUT' });
    expect(t.net.connections[0]!.closedByClient).toBeDefined();
    t.client.close();
  });

  it('reconnects with a refreshed token when a long-lived token expires', async () => {
    const t = await connectedThenDropped();
    await t.clock.advance(250);
    t.net.last.push({ type: 'error', code: 'TOKEN_EXPIRED', message: 'expired', retryable: false, inReplyTo: 'auth' });
    expect(t.client.state).toBe('reconnecting');
    await t.clock.advance(1_000);
    await acceptConnection(t);
    expect(t.client.state).toBe('connected');
    expect(t.net.connections.map((c) => c.sent[0]?.token)).toEqual(['token-1', 'token-2', 'token-3']);
    t.client.close();
  });
});

describe('heartbeat and liveness', () => {
  it('sends a heartbeat on the welcome, then every heartbeatIntervalMs', async () => {
    const t = await connected();
    expect(t.conn.framesOfType('heartbeat')).toHaveLength(1); // shows the server the welcome was read
    t.conn.push({ type: 'heartbeat_ack', serverTimeMs: t.clock.nowMs() });
    await t.clock.advance(HEARTBEAT_MS);
    expect(t.conn.framesOfType('heartbeat')).toHaveLength(2);
    t.conn.push({ type: 'heartbeat_ack', serverTimeMs: t.clock.nowMs() });
    await t.clock.advance(HEARTBEAT_MS);
    expect(t.conn.framesOfType('heartbeat')).toHaveLength(3);
    t.client.close();
  });

  it('drops a connection the server has gone silent on, and reconnects', async () => {
    const t = await connected();
    const disconnects: number[] = [];
    t.client.on('disconnected', (d) => disconnects.push(d.code));
    await t.clock.advance(HEARTBEAT_MS * 2); // no heartbeat_ack ever, but not yet 2.5 intervals
    expect(disconnects).toEqual([]);
    await t.clock.advance(HEARTBEAT_MS);
    expect(disconnects).toEqual([4002]);
    await t.clock.advance(1_000); // reconnect backoff
    expect(t.conn.closedByClient).toBeDefined();
    expect(t.net.connections.length).toBe(2);
    t.client.close();
  });
});

describe('ordering and de-duplication', () => {
  it('hands events over in order and acks them', async () => {
    const t = await connected();
    t.conn.push(eventFrame(message(DM, 1)));
    t.conn.push(eventFrame(message(DM, 2)));
    expect(t.seqs()).toEqual([1, 2]);
    expect(t.conn.framesOfType('ack')).toEqual([
      { type: 'ack', conversationId: DM, seq: 1 },
      { type: 'ack', conversationId: DM, seq: 2 },
    ]);
    expect(t.client.getCursors()).toEqual({ [DM]: 2 });
    t.client.close();
  });

  it('acks a copy seen past a gap only as far as it has everything in order', async () => {
    const t = await connected();
    t.conn.push(eventFrame(message(DM, 1)));
    const sending = t.client.send(DM, 'logged');
    const send = t.conn.lastOfType('send')!;
    t.conn.push(queuedFrame(DM, send));
    // The write-ahead log's replay numbers our message 3 and pushes it back; 2 is still on its way.
    t.conn.push(eventFrame({ ...message(DM, 3, 'alice'), senderDeviceId: 'phone', clientMessageId: String(send.clientMessageId) }));
    await expect(sending).resolves.toMatchObject({ seq: 3 });
    // 4 is held behind the gap; its duplicate is acked up to the cursor, not to 4.
    t.conn.push(eventFrame(message(DM, 4)));
    t.conn.push(eventFrame(message(DM, 4)));
    const acked = () => t.conn.framesOfType('ack').map((a) => Number(a.seq));
    // "Delivered up to 3" or 4 now would tell the group (and the inbox) this device has 2.
    expect(Math.max(...acked())).toBe(1);
    t.conn.push(eventFrame(message(DM, 2)));
    expect(t.seqs()).toEqual([1, 2, 4]);
    expect(Math.max(...acked())).toBe(4);
    t.client.close();
  });

  it('a conversation without a cursor whose only pending send is queued syncs from its link point for an event above seq 1', async () => {
    // Found by the seed swarm (npm run sim:swarm -- scenarios/swarm-small.yaml --seed 1167 --faults 0,1):
    // the write-ahead log's replay of our message (seq 1) reached a connection that had already
    // pushed seq 2, which drops lower seqs; waiting for our send's seq instead of syncing, the
    // conversation never started and the send stayed unacknowledged until the next reconnect.
    const t = await connected();
    const sending = t.client.send(DM, 'logged');
    const send = t.conn.lastOfType('send')!;
    t.conn.push(queuedFrame(DM, send));
    t.conn.push(eventFrame(message(DM, 2)));
    await expectLinkSyncToAnswerOwnSend(t, send, sending);
    t.client.close();
  });

  it('a conversation without a cursor held for a pending send starts syncing once that send is answered queued', async () => {
    // Found by the seed swarm (npm run sim:swarm -- scenarios/swarm-small.yaml --seed 89): seq 2
    // arrived while our re-sent message still waited for its answer, so the conversation waited
    // for that send's seq; the answer was `queued`, and nothing looked again, so the replay's copy
    // (seq 1, dropped by a connection that had pushed seq 2) never came and the send stayed
    // unacknowledged for good.
    const t = await connected();
    const sending = t.client.send(DM, 'logged');
    const send = t.conn.lastOfType('send')!;
    t.conn.push(eventFrame(message(DM, 2)));
    expect(t.conn.framesOfType('sync')).toEqual([]); // our send may be seq 1: wait for its answer
    t.conn.push(queuedFrame(DM, send));
    await expectLinkSyncToAnswerOwnSend(t, send, sending);
    t.client.close();
  });

  it('takes its own message seen by sync as the answer to a send still in its outbox', async () => {
    // Found by the seed swarm (npm run sim:swarm -- scenarios/swarm-small.yaml --seed 2516 --faults 0,1):
    // the send was stored but its answer lost (the fan-out failed in a Redis restart); a sync
    // brought it back, yet the outbox kept it, and the re-send, queued during a Cassandra outage,
    // waited for a copy the replay's fan-out skipped (this device had acknowledged that seq).
    const t = await connected();
    t.conn.push(eventFrame(message(DM, 1)));
    const sending = t.client.send(DM, 'answer lost');
    const send = t.conn.lastOfType('send')!;
    t.conn.push({ type: 'error', rid: send.rid, code: 'STORAGE_UNAVAILABLE', message: 'redis did not answer', retryable: true });
    t.conn.push(eventFrame(message(DM, 3)));
    const sync = t.conn.lastOfType('sync')!;
    const own = { ...message(DM, 2, 'alice'), senderDeviceId: 'phone', clientMessageId: String(send.clientMessageId) };
    t.conn.push({ type: 'sync_result', rid: sync.rid, conversationId: DM, events: [own, message(DM, 3)], hasMore: false, lastSeq: 3 });
    await expect(sending).resolves.toMatchObject({ seq: 2 });
    expect(t.seqs()).toEqual([1, 3]);
    t.client.close();
  });

  it('drops a duplicate but acks it again', async () => {
    const t = await connected();
    t.conn.push(eventFrame(message(DM, 1)));
    t.conn.push(eventFrame(message(DM, 1)));
    expect(t.seqs()).toEqual([1]);
    expect(t.conn.framesOfType('ack')).toEqual([
      { type: 'ack', conversationId: DM, seq: 1 },
      { type: 'ack', conversationId: DM, seq: 1 },
    ]);
    t.client.close();
  });

  it('starts a conversation it has no cursor for at seq 1 at once', async () => {
    const t = await connected();
    t.conn.push(eventFrame(message(DM, 1)));
    expect(t.seqs()).toEqual([1]);
    expect(t.conn.framesOfType('sync')).toEqual([]);
    t.client.close();
  });

  it('starts a conversation it has no cursor for above seq 1 after a sync from its link point', async () => {
    const t = await connected();
    t.conn.push(eventFrame(membership(GROUP, 5, 'added', ['alice'])));
    t.conn.push(eventFrame(message(GROUP, 6)));
    expect(t.seqs()).toEqual([]);
    const syncs = t.conn.framesOfType('sync');
    expect(syncs).toEqual([{ type: 'sync', rid: expect.any(String), conversationId: GROUP, afterSeq: 0, fromLink: true }]);
    t.conn.push({
      type: 'sync_result',
      rid: syncs[0]!.rid,
      conversationId: GROUP,
      events: [membership(GROUP, 5, 'added', ['alice'])],
      hasMore: false,
      lastSeq: 6,
    });
    expect(t.seqs()).toEqual([5, 6]);
    t.client.close();
  });

  it('close() while the first sync of a group it was just added to is pending hands nothing held to the app, and getCursors() leaves it out', async () => {
    // Found by the load driver (npm start, membership changes and churn): the close failed the sync
    // with CLOSED, which the client took for a refusal, so it handed the app the held events during
    // the close; the device's next client, from cursors read before the close, delivered them again.
    const t = await connected();
    t.conn.push(eventFrame(membership(GROUP, 5, 'added', ['alice'])));
    t.conn.push(eventFrame(message(GROUP, 6)));
    expect(t.conn.framesOfType('sync')).toEqual([
      { type: 'sync', rid: expect.any(String), conversationId: GROUP, afterSeq: 0, fromLink: true },
    ]);
    const cursorsBefore = t.client.getCursors();
    t.client.close();
    await flush();
    expect(t.events).toEqual([]);
    expect(t.history.events.filter((e) => e.type === 'deliver')).toEqual([]);
    expect(t.client.getCursors()).toEqual(cursorsBefore);
    expect(t.client.getCursors()[GROUP]).toBeUndefined();
  });

  it('close() from an event listener in the middle of a sync page: the rest of the page and what is held are not handed over', async () => {
    const t = await connected();
    t.conn.push(eventFrame(message(DM, 1)));
    t.conn.push(eventFrame(message(DM, 5)));
    t.client.on('event', (event) => {
      if (event.seq === 2) t.client.close();
    });
    const sync = t.conn.lastOfType('sync')!;
    t.conn.push({
      type: 'sync_result',
      rid: sync.rid,
      conversationId: DM,
      events: [message(DM, 2), message(DM, 3), message(DM, 4)],
      hasMore: false,
      lastSeq: 5,
    });
    expect(t.seqs()).toEqual([1, 2]);
    expect(t.client.getCursors()).toEqual({ [DM]: 2 });
  });

  it('a connection lost during the first sync of a group: the sync is asked again after the reconnect, and the held events come once, in order', async () => {
    const t = await connected();
    t.conn.push(eventFrame(membership(GROUP, 5, 'added', ['alice'])));
    t.conn.push(eventFrame(message(GROUP, 6)));
    const first = t.conn.lastOfType('sync')!;
    t.conn.drop(1006);
    expect(t.events).toEqual([]);
    await t.clock.advance(1_000);
    const conn = await acceptConnection(t);
    expect(conn).not.toBe(t.conn);
    const syncs = conn.framesOfType('sync');
    expect(syncs).toEqual([{ type: 'sync', rid: expect.any(String), conversationId: GROUP, afterSeq: 0, fromLink: true }]);
    // The inbox replays what the lost connection pushed; the lost sync's answer never comes.
    conn.push({ type: 'event', queued: true, event: membership(GROUP, 5, 'added', ['alice']) });
    conn.push({ type: 'event', queued: true, event: message(GROUP, 6) });
    expect(t.events).toEqual([]);
    conn.push({
      type: 'sync_result',
      rid: syncs[0]!.rid,
      conversationId: GROUP,
      events: [membership(GROUP, 5, 'added', ['alice']), message(GROUP, 6)],
      hasMore: false,
      lastSeq: 6,
    });
    conn.push(eventFrame(message(GROUP, 7)));
    expect(t.seqs()).toEqual([5, 6, 7]);
    expect(first.rid).not.toBe(syncs[0]!.rid);
    t.client.close();
  });

  it('buffers past a gap, asks for one sync, and pages it until hasMore is false', async () => {
    const t = await connected();
    t.conn.push(eventFrame(message(DM, 1)));
    t.conn.push(eventFrame(message(DM, 3)));
    t.conn.push(eventFrame(message(DM, 4)));
    expect(t.seqs()).toEqual([1]);
    const syncs = t.conn.framesOfType('sync');
    expect(syncs).toEqual([{ type: 'sync', rid: expect.any(String), conversationId: DM, afterSeq: 1 }]);

    t.conn.push({
      type: 'sync_result',
      rid: syncs[0]!.rid,
      conversationId: DM,
      events: [message(DM, 2), message(DM, 3)],
      hasMore: true,
      lastSeq: 5,
    });
    expect(t.seqs()).toEqual([1, 2, 3, 4]);
    expect(t.events.map((e) => e.via)).toEqual(['live', 'sync', 'live', 'live']);
    // One ack for the whole frame, at the highest seq it handed over.
    expect(t.conn.framesOfType('ack').at(-1)).toEqual({ type: 'ack', conversationId: DM, seq: 4 });

    const page2 = t.conn.framesOfType('sync')[1]!;
    expect(page2).toMatchObject({ conversationId: DM, afterSeq: 3 });
    t.conn.push({
      type: 'sync_result',
      rid: page2.rid,
      conversationId: DM,
      events: [message(DM, 4), message(DM, 5)],
      hasMore: false,
      lastSeq: 5,
    });
    expect(t.seqs()).toEqual([1, 2, 3, 4, 5]);
    expect(t.conn.framesOfType('sync')).toHaveLength(2);
    t.client.close();
  });

  it('skips seqs a complete sync did not return (stretches the user could not read)', async () => {
    const t = await connected();
    t.conn.push(eventFrame(message(GROUP, 1)));
    t.conn.push(eventFrame(message(GROUP, 5)));
    const sync = t.conn.lastOfType('sync')!;
    t.conn.push({ type: 'sync_result', rid: sync.rid, conversationId: GROUP, events: [], hasMore: false, lastSeq: 5 });
    expect(t.seqs()).toEqual([1, 5]);
    expect(t.client.getCursor(GROUP)).toBe(5);
    t.client.close();
  });

  it('retries a sync that failed retryably', async () => {
    const t = await connected();
    t.conn.push(eventFrame(message(DM, 1)));
    t.conn.push(eventFrame(message(DM, 3)));
    const first = t.conn.lastOfType('sync')!;
    t.conn.push({ type: 'error', rid: first.rid, code: 'STORAGE_UNAVAILABLE', message: 'later', retryable: true, retryAfterMs: 500 });
    expect(t.conn.framesOfType('sync')).toHaveLength(1);
    await t.clock.advance(500);
    const second = t.conn.lastOfType('sync')!;
    expect(second).toMatchObject({ conversationId: DM, afterSeq: 1 });
    expect(second.rid).not.toBe(first.rid);
    t.client.close();
  });

  it('counts its own sends as observed, without handing them to the app', async () => {
    const t = await connected();
    const sentSeqs: number[] = [];
    t.client.on('sent', (r) => sentSeqs.push(r.seq));
    t.conn.push(eventFrame(message(DM, 1)));
    const first = t.client.send(DM, 'hi');
    const frame1 = t.conn.lastOfType('send')!;
    t.conn.push(sentFrame(DM, frame1.clientMessageId as string, 2, frame1.rid as string));
    await expect(first).resolves.toMatchObject({ seq: 2, duplicate: false });
    expect(t.client.getCursor(DM)).toBe(2);

    // Our next message lands at 4: 3 is someone else's, still in flight.
    void t.client.send(DM, 'again');
    const frame2 = t.conn.lastOfType('send')!;
    t.conn.push(sentFrame(DM, frame2.clientMessageId as string, 4, frame2.rid as string));
    expect(t.conn.lastOfType('sync')).toMatchObject({ conversationId: DM, afterSeq: 2 });
    t.conn.push(eventFrame(message(DM, 3)));
    expect(t.seqs()).toEqual([1, 3]);
    expect(t.client.getCursor(DM)).toBe(4);
    expect(sentSeqs).toEqual([2, 4]);
    t.client.close();
  });

  it('resumes from given cursors on connect; the inbox drain duplicates are dropped', async () => {
    const t = setup({ cursors: { [DM]: 5 } });
    const connecting = t.client.connect();
    const conn = await acceptConnection(t);
    await connecting;
    const sync = conn.lastOfType('sync')!;
    expect(sync).toMatchObject({ conversationId: DM, afterSeq: 5 });
    conn.push(eventFrame(message(DM, 5))); // drained from the inbox: already seen
    conn.push({ type: 'sync_result', rid: sync.rid, conversationId: DM, events: [message(DM, 6)], hasMore: false, lastSeq: 6 });
    conn.push(eventFrame(message(DM, 6))); // drained too
    expect(t.seqs()).toEqual([6]);
    expect(conn.framesOfType('ack').map((a) => a.seq)).toEqual([5, 6, 6]);
    t.client.close();
  });

  it('catches up every known conversation after a reconnect', async () => {
    const t = await connected();
    t.conn.push(eventFrame(message(DM, 1)));
    t.conn.push(eventFrame(message(GROUP, 7)));
    const linkSync = t.conn.lastOfType('sync')!;
    t.conn.push({ type: 'sync_result', rid: linkSync.rid, conversationId: GROUP, events: [message(GROUP, 7)], hasMore: false, lastSeq: 7 });
    t.conn.drop(1006);
    await t.clock.advance(250);
    const conn = await acceptConnection(t);
    expect(conn.framesOfType('sync').map((s) => [s.conversationId, s.afterSeq])).toEqual([
      [DM, 1],
      [GROUP, 7],
    ]);
    t.client.close();
  });
});

describe('send', () => {
  it('after a reconnect, later sends to a conversation wait until its queued send is answered on the new connection', async () => {
    // Found by the seed swarm (npm run sim:swarm -- scenarios/swarm-small.yaml --seed 585): the
    // server keeps a sender's order behind a queued send only on the gateway that logged it. On
    // another gateway both were re-sent, neither was answered in time, and the later message's
    // retry was numbered before the queued one's (order).
    const t = await connected();
    const first = t.client.send(DM, 'logged');
    const a = t.conn.lastOfType('send')!;
    t.conn.push(queuedFrame(DM, a));
    const second = t.client.send(DM, 'after it');
    const b = t.conn.lastOfType('send')!;
    expect(b.clientMessageId).not.toBe(a.clientMessageId); // on the gateway that logged A, B goes at once (it queues behind A there)
    t.conn.drop(1006);
    await t.clock.advance(250);
    const conn = await acceptConnection(t);
    expect(conn.framesOfType('send').map((f) => f.clientMessageId)).toEqual([a.clientMessageId]); // B waits for A's answer here
    await t.clock.advance(10_000); // no answer: A is re-sent on its timer, B still waits
    expect(new Set(conn.framesOfType('send').map((f) => f.clientMessageId))).toEqual(new Set([a.clientMessageId]));
    conn.push(sentFrame(DM, String(a.clientMessageId), 5, String(a.rid)));
    expect(
      conn
        .framesOfType('send')
        .map((f) => f.clientMessageId)
        .at(-1),
    ).toBe(b.clientMessageId);
    conn.push(sentFrame(DM, String(b.clientMessageId), 6, String(b.rid)));
    await expect(first).resolves.toMatchObject({ seq: 5 });
    await expect(second).resolves.toMatchObject({ seq: 6 });
    t.client.close();
  });

  it('sends base64 bodies with a generated clientMessageId and resolves on sent', async () => {
    const t = await connected();
    const sending = t.client.send(DM, 'hello');
    const frame = t.conn.lastOfType('send')!;
    expect(frame).toEqual({
      type: 'send',
      rid: expect.any(String),
      conversationId: DM,
      clientMessageId: expect.stringMatching(/^phone-1-[0-9a-f]{12}$/),
      body: Buffer.from('hello').toString('base64'),
    });
    t.conn.push(sentFrame(DM, frame.clientMessageId as string, 1, frame.rid as string));
    await expect(sending).resolves.toEqual({
      conversationId: DM,
      clientMessageId: frame.clientMessageId,
      seq: 1,
      serverTimeMs: 2_000_000,
      duplicate: false,
    });
    expect(t.client.pendingSendCount).toBe(0);
    t.client.close();
  });

  it('re-sends the same clientMessageId after a reconnect until acknowledged', async () => {
    const t = await connected();
    const sending = t.client.send(DM, new Uint8Array([1, 2, 3]), { clientMessageId: 'fixed-id' });
    const first = t.conn.lastOfType('send')!;
    t.conn.drop(1006);
    await t.clock.advance(250);
    const conn2 = await acceptConnection(t);
    const second = conn2.lastOfType('send')!;
    expect(second).toEqual(first);
    expect(second.clientMessageId).toBe('fixed-id');
    conn2.push({ ...sentFrame(DM, 'fixed-id', 1), duplicate: true });
    await expect(sending).resolves.toMatchObject({ seq: 1, duplicate: true });
    const attempts = t.history.events.filter((e) => e.type === 'send').map((e) => (e.type === 'send' ? e.attempt : 0));
    expect(attempts).toEqual([1, 2]);
    t.client.close();
  });

  it('re-sends on the same connection when no sent arrives within sendTimeoutMs', async () => {
    const t = await connected({ sendTimeoutMs: 1_000 });
    void t.client.send(DM, 'x');
    await t.clock.advance(999);
    expect(t.conn.framesOfType('send')).toHaveLength(1);
    await t.clock.advance(1);
    const sends = t.conn.framesOfType('send');
    expect(sends).toHaveLength(2);
    expect(sends[1]!.clientMessageId).toBe(sends[0]!.clientMessageId);
    t.client.close();
  });

  it('re-sends pending messages in their original order after a reconnect', async () => {
    const t = await connected();
    for (const text of ['a', 'b', 'c']) void t.client.send(DM, text);
    const order = t.conn.framesOfType('send').map((f) => f.clientMessageId);
    // b was acknowledged before the drop; a and c were not.
    t.conn.push(sentFrame(DM, order[1] as string, 1));
    t.conn.drop(1006);
    void t.client.send(DM, 'd'); // while offline: queued behind a and c
    await t.clock.advance(250);
    const conn2 = await acceptConnection(t);
    const resent = conn2.framesOfType('send').map((f) => f.clientMessageId);
    expect(resent.slice(0, 2)).toEqual([order[0], order[2]]);
    expect(resent).toHaveLength(3);
    t.client.close();
  });

  it('queues sends made before the first connect', async () => {
    const t = setup({ deviceId: 'phone' });
    const sending = t.client.send(DM, 'early');
    const connecting = t.client.connect();
    const conn = await acceptConnection(t);
    await connecting;
    const frame = conn.lastOfType('send')!;
    expect(frame.clientMessageId).toMatch(/^phone-1-/);
    conn.push(sentFrame(DM, frame.clientMessageId as string, 1));
    await expect(sending).resolves.toMatchObject({ seq: 1 });
    t.client.close();
  });

  it('rejects with the server error code when a rid-matched error is not retryable', async () => {
    const t = await connected();
    const sending = t.client.send(GROUP, 'x');
    const frame = t.conn.lastOfType('send')!;
    t.conn.push({ type: 'error', rid: frame.rid, code: 'NOT_A_MEMBER', message: 'not a member', retryable: false, inReplyTo: 'send' });
    const error = await sending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatClientError);
    expect(error).toMatchObject({ code: 'NOT_A_MEMBER', retryable: false, inReplyTo: 'send' });
    expect(t.client.pendingSendCount).toBe(0);
    await t.clock.advance(10_000);
    expect(t.conn.framesOfType('send')).toHaveLength(1);
    t.client.close();
  });

  it('re-sends after the hinted delay when the error is retryable', async () => {
    const t = await connected();
    void t.client.send(DM, 'x');
    const frame = t.conn.lastOfType('send')!;
    t.conn.push({ type: 'error', rid: frame.rid, code: 'STORAGE_UNAVAILABLE', message: 'later', retryable: true, retryAfterMs: 300 });
    await t.clock.advance(299);
    expect(t.conn.framesOfType('send')).toHaveLength(1);
    await t.clock.advance(1);
    expect(t.conn.framesOfType('send')).toHaveLength(2);
    t.client.close();
  });

  it('tells the app when an overloaded server refused a send, and re-sends it with the same clientMessageId after the hint', async () => {
    const t = await connected();
    const retries: Array<{ code: string; retryAfterMs: number; clientMessageId: string }> = [];
    t.client.on('retrying', (info) => retries.push(info));
    void t.client.send(DM, 'x');
    const frame = t.conn.lastOfType('send')!;
    t.conn.push({
      type: 'error',
      rid: frame.rid,
      code: 'OVERLOADED',
      message: 'busy',
      retryable: true,
      retryAfterMs: 700,
      inReplyTo: 'send',
    });
    await flush();
    expect(retries).toEqual([{ conversationId: DM, clientMessageId: frame.clientMessageId, code: 'OVERLOADED', retryAfterMs: 700 }]);
    await t.clock.advance(699);
    expect(t.conn.framesOfType('send')).toHaveLength(1);
    await t.clock.advance(1);
    const resent = t.conn.framesOfType('send');
    expect(resent).toHaveLength(2);
    expect(resent[1]!.clientMessageId).toBe(frame.clientMessageId);
    t.client.close();
  });

  it('backs off exponentially above the hint when the same send is refused again and again (no retry storm)', async () => {
    const t = await connected();
    void t.client.send(DM, 'x');
    const gapsMs: number[] = [];
    let lastAtMs = t.clock.nowMs();
    for (let refusal = 0; refusal < 7; refusal++) {
      const frames = t.conn.framesOfType('send');
      t.conn.push({
        type: 'error',
        rid: frames[frames.length - 1]!.rid,
        code: 'OVERLOADED',
        message: 'busy',
        retryable: true,
        retryAfterMs: 100,
        inReplyTo: 'send',
      });
      while (t.conn.framesOfType('send').length === frames.length) await t.clock.advance(50);
      gapsMs.push(t.clock.nowMs() - lastAtMs);
      lastAtMs = t.clock.nowMs();
    }
    expect(gapsMs[0]).toBeGreaterThanOrEqual(100); // never sooner than the hint
    expect(gapsMs[6]).toBeGreaterThanOrEqual(2_500); // the 7th attempt: 250 ms × 2^6, capped at 5 s, equal jitter
    expect(gapsMs[6]).toBeGreaterThan(gapsMs[1]! * 4);
    expect(Math.max(...gapsMs)).toBeLessThanOrEqual(5_000 + 50); // sendRetryMaxDelayMs caps the wait
    t.client.close();
  });

  it('refuses a message whose frame exceeds frameBytesMax instead of re-sending it forever', async () => {
    const t = setup();
    const connecting = t.client.connect();
    await flush();
    t.net.last.push({ ...welcomeFrame(t.clock), limits: { frameBytesMax: 1_000 } });
    await connecting;
    await expect(t.client.send(DM, 'x'.repeat(2_000))).rejects.toMatchObject({ code: 'FRAME_TOO_LARGE', retryable: false });
    expect(t.net.last.framesOfType('send')).toEqual([]);
    expect(t.history.events.filter((e) => e.type === 'send')).toEqual([]);
    t.client.close();
  });

  it('returns the same promise for a clientMessageId already pending', async () => {
    const t = await connected();
    const a = t.client.send(DM, 'x', { clientMessageId: 'same' });
    const b = t.client.send(DM, 'x', { clientMessageId: 'same' });
    expect(b).toBe(a);
    expect(t.conn.framesOfType('send')).toHaveLength(1);
    t.client.close();
    await expect(a).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('requests', () => {
  it('matches answers by rid', async () => {
    const t = await connected();
    const creating = t.client.createGroup('friends', ['bob', 'carol']);
    const frame = t.conn.lastOfType('group_create')!;
    expect(frame).toEqual({ type: 'group_create', rid: expect.any(String), name: 'friends', members: ['bob', 'carol'] });
    t.conn.push({ type: 'group_result', rid: frame.rid, conversationId: GROUP, seq: 1 });
    await expect(creating).resolves.toEqual({ conversationId: GROUP, seq: 1 });
    t.client.close();
  });

  it('rejects with the rid-matched error frame', async () => {
    const t = await connected();
    const adding = t.client.addMembers(GROUP, ['dave']);
    const frame = t.conn.lastOfType('group_add')!;
    t.conn.push({ type: 'error', rid: frame.rid, code: 'NOT_AN_ADMIN', message: 'admins only', retryable: false });
    await expect(adding).rejects.toMatchObject({ code: 'NOT_AN_ADMIN', retryable: false });
    t.client.close();
  });

  it('times out with TIMEOUT, and fails with DISCONNECTED when the connection drops', async () => {
    const t = await connected({ requestTimeoutMs: 2_000 });
    const listing = t.client.conversations();
    const outcome = listing.catch((e: unknown) => e);
    await t.clock.advance(2_000);
    expect(await outcome).toMatchObject({ code: 'TIMEOUT', retryable: true });
    const receipts = t.client.receipts(DM).catch((e: unknown) => e);
    t.conn.drop(1006);
    expect(await receipts).toMatchObject({ code: 'DISCONNECTED', retryable: true });
    await expect(t.client.conversations()).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    t.client.close();
  });

  it('feeds history pages through the ordering path', async () => {
    const t = await connected();
    t.conn.push(eventFrame(message(DM, 1)));
    const paging = t.client.history(DM, { limit: 10 });
    const frame = t.conn.lastOfType('history')!;
    expect(frame).toEqual({ type: 'history', rid: expect.any(String), conversationId: DM, limit: 10 });
    t.conn.push({ type: 'history_result', rid: frame.rid, conversationId: DM, events: [message(DM, 1), message(DM, 2)], hasMore: false });
    const page = await paging;
    expect(page.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(t.events.map((e) => [e.event.seq, e.via])).toEqual([
      [1, 'live'],
      [2, 'sync'],
    ]);
    t.client.close();
  });

  it('renews presence subscriptions on reconnect', async () => {
    const t = await connected();
    const subscribing = t.client.subscribePresence(['bob']);
    t.conn.push({ type: 'ok', rid: t.conn.lastOfType('presence_subscribe')!.rid });
    await subscribing;
    t.conn.drop(1006);
    await t.clock.advance(250);
    const conn2 = await acceptConnection(t);
    expect(conn2.lastOfType('presence_subscribe')).toEqual({ type: 'presence_subscribe', userIds: ['bob'] });
    t.client.close();
  });

  it('sends reads made while offline after reconnecting', async () => {
    const t = await connected();
    t.conn.drop(1006);
    t.client.markRead(DM, 3);
    t.client.markRead(DM, 2);
    await t.clock.advance(250);
    const conn2 = await acceptConnection(t);
    expect(conn2.framesOfType('read')).toEqual([{ type: 'read', conversationId: DM, seq: 3 }]);
    t.client.close();
  });
});

describe('goaway', () => {
  it('moves to the next url after reconnectAfterMs', async () => {
    const t = await connected();
    t.conn.push({ type: 'goaway', reason: 'shutting_down', reconnectAfterMs: 2_000 });
    await t.clock.advance(1_999);
    expect(t.conn.isOpen).toBe(true);
    await t.clock.advance(1);
    expect(t.conn.closedByClient).toBeDefined();
    await flush();
    expect(t.net.last.url).toBe('ws://b');
    t.client.close();
  });

  it('prefers the urls the goaway lists, and waits for the hint even if the server closes first', async () => {
    const t = await connected();
    t.conn.push({ type: 'goaway', reason: 'shutting_down', reconnectAfterMs: 1_000, urls: ['ws://c'] });
    t.conn.drop(4006, 'server shutting down');
    await t.clock.advance(999);
    expect(t.net.connections).toHaveLength(1);
    await t.clock.advance(1);
    expect(t.net.last.url).toBe('ws://c');
    t.client.close();
  });

  it('stops for good when the device is unlinked', async () => {
    const t = await connected();
    t.conn.push({ type: 'goaway', reason: 'device_unlinked', reconnectAfterMs: 0 });
    expect(t.client.state).toBe('closed');
    expect(t.errors.at(-1)).toMatchObject({ code: 'DEVICE_UNKNOWN' });
    expect(t.clock.pendingTimers).toBe(0);
  });
});

describe('history recording', () => {
  it('records what the device observed, with the checker field names', async () => {
    const t = await connected();
    const now = () => t.clock.nowMs();
    const start = now();
    t.conn.push({ type: 'heartbeat_ack', serverTimeMs: start }); // the answer to the heartbeat sent on the welcome
    t.conn.push(eventFrame(message(DM, 1)));
    t.conn.push(eventFrame(membership(GROUP, 1, 'added', ['alice'])));
    void t.client.send(DM, 'hi', { clientMessageId: 'm-1' });
    const frame = t.conn.lastOfType('send')!;
    await t.clock.advance(10);
    t.conn.push(sentFrame(DM, 'm-1', 2, frame.rid as string));
    t.conn.push({ type: 'receipt', conversationId: DM, state: 'read', upToSeq: 2, userId: 'bob', deviceId: 'bob-phone' });
    t.conn.push({ type: 'presence', userId: 'bob', online: true });
    await t.clock.advance(5);
    t.client.close();
    const me = { userId: 'alice', deviceId: 'phone' };
    expect(t.history.events).toEqual([
      { type: 'device', atMs: start, ...me },
      { type: 'welcomed', atMs: start, ...me },
      { type: 'connect', atMs: start, ...me },
      {
        type: 'deliver',
        atMs: start,
        ...me,
        conversationId: DM,
        seq: 1,
        kind: 'message',
        senderUserId: 'bob',
        senderDeviceId: 'bob-phone',
        clientMessageId: 'bob-phone-1',
        via: 'live',
      },
      {
        type: 'deliver',
        atMs: start,
        ...me,
        conversationId: GROUP,
        seq: 1,
        kind: 'membership',
        op: 'added',
        memberUserIds: ['alice'],
        via: 'live',
      },
      { type: 'send', atMs: start, ...me, conversationId: DM, clientMessageId: 'm-1', attempt: 1 },
      { type: 'ack', atMs: start + 10, ...me, conversationId: DM, clientMessageId: 'm-1', seq: 2 },
      { type: 'receipt', atMs: start + 10, ...me, conversationId: DM, state: 'read', upToSeq: 2, byUserId: 'bob', byDeviceId: 'bob-phone' },
      { type: 'presence', atMs: start + 10, ...me, subjectUserId: 'bob', online: true },
      { type: 'disconnect', atMs: start + 15, ...me },
    ]);
  });

  it('drops a receipt watermark at or below one it already has (announced out of order by two gateways)', async () => {
    const t = await connected();
    const seen: number[] = [];
    t.client.on('receipt', (r) => seen.push(r.upToSeq));
    const receipt = (state: 'delivered' | 'read', upToSeq: number) =>
      t.conn.push({ type: 'receipt', conversationId: DM, state, upToSeq, userId: 'bob', deviceId: 'bob-phone' });
    receipt('delivered', 11);
    receipt('delivered', 9);
    receipt('delivered', 11);
    receipt('read', 9);
    receipt('delivered', 12);
    expect(seen).toEqual([11, 9, 12]);
    expect(
      t.history.events.filter((e) => e.type === 'receipt').map((e) => (e.type === 'receipt' ? `${e.state}:${e.upToSeq}` : '')),
    ).toEqual(['delivered:11', 'read:9', 'delivered:12']);
  });

  it("records 'device' once per client; 'welcomed', 'connect' (the answer to its first heartbeat) and 'disconnect' per connection", async () => {
    const t = await connected();
    expect(t.history.events.map((e) => e.type)).toEqual(['device', 'welcomed']); // the server has not answered yet
    t.conn.push({ type: 'heartbeat_ack', serverTimeMs: t.clock.nowMs() });
    t.conn.drop(1006);
    await t.clock.advance(250);
    const second = await acceptConnection(t);
    second.push({ type: 'heartbeat_ack', serverTimeMs: t.clock.nowMs() });
    second.push({ type: 'heartbeat_ack', serverTimeMs: t.clock.nowMs() }); // later answers change nothing
    second.drop(1006);
    await t.clock.advance(1_000);
    // A connection whose first heartbeat was never answered (lost in a partition) has no connect.
    const third = await acceptConnection(t);
    third.drop(1006);
    t.client.close();
    expect(t.history.events.map((e) => e.type)).toEqual([
      'device',
      'welcomed',
      'connect',
      'disconnect',
      'welcomed',
      'connect',
      'disconnect',
      'welcomed',
      'disconnect',
    ]);
  });
});

describe('close', () => {
  it('leaves no timers and rejects what is pending', async () => {
    const t = await connected();
    t.conn.push(eventFrame(message(DM, 1)));
    t.conn.push(eventFrame(message(DM, 3))); // a sync in flight
    const sending = t.client.send(DM, 'x').catch((e: unknown) => e);
    const requesting = t.client.conversations().catch((e: unknown) => e);
    expect(t.clock.pendingTimers).toBeGreaterThan(0);
    t.client.close();
    expect(t.clock.pendingTimers).toBe(0);
    expect(await sending).toMatchObject({ code: 'CLOSED' });
    expect(await requesting).toMatchObject({ code: 'CLOSED' });
    expect(t.conn.closedByClient).toEqual({ code: 1000, reason: 'client closed' });
    expect(t.client.state).toBe('closed');
    await t.clock.advance(120_000);
    expect(t.net.connections).toHaveLength(1);
    await expect(t.client.send(DM, 'late')).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('leaves no timers while waiting to reconnect', async () => {
    const t = await connected();
    t.conn.drop(1006);
    expect(t.client.state).toBe('reconnecting');
    t.client.close();
    expect(t.clock.pendingTimers).toBe(0);
    await t.clock.advance(60_000);
    expect(t.net.connections).toHaveLength(1);
  });

  it('abandons a connection attempt in progress', async () => {
    const t = setup();
    const connecting = t.client.connect().catch((e: unknown) => e);
    await flush();
    t.client.close();
    expect(await connecting).toMatchObject({ code: 'CLOSED' });
    expect(t.net.last.closedByClient).toBeDefined();
    expect(t.clock.pendingTimers).toBe(0);
    t.net.last.push(welcomeFrame(t.clock)); // too late: ignored
    expect(t.client.state).toBe('closed');
  });
});

describe('robustness', () => {
  it('reports a throwing listener as an error and carries on', async () => {
    const t = await connected();
    t.client.on('event', () => {
      throw new Error('app bug');
    });
    t.conn.push(eventFrame(message(DM, 1)));
    t.conn.push(eventFrame(message(DM, 2)));
    expect(t.seqs()).toEqual([1, 2]);
    expect(t.errors.map((e) => e.code)).toEqual(['LISTENER_ERROR', 'LISTENER_ERROR']);
    t.client.close();
  });

  it('rejects a request whose answer does not match the protocol', async () => {
    const t = await connected();
    const listing = t.client.conversations();
    t.conn.pushUnchecked({ type: 'conversations_result', rid: t.conn.lastOfType('conversations')!.rid, conversations: 'nope' });
    await expect(listing).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' });
    t.conn.pushRaw('not json');
    expect(t.errors.at(-1)).toMatchObject({ code: 'PROTOCOL_ERROR' });
    t.client.close();
  });

  it('stops on a fatal close code', async () => {
    const t = await connected();
    const disconnects: boolean[] = [];
    t.client.on('disconnected', (d) => disconnects.push(d.willReconnect));
    t.conn.drop(4005, 'device unlinked');
    expect(t.client.state).toBe('closed');
    expect(disconnects).toEqual([false]);
    expect(t.errors.at(-1)).toMatchObject({ code: 'DEVICE_UNKNOWN' });
    expect(t.clock.pendingTimers).toBe(0);
  });
});

describe('server log reset (welcome.incarnation)', () => {
  /** A welcome naming the server log's incarnation. */
  function welcomeOf(t: Harness, incarnation: string | undefined) {
    const frame = welcomeFrame(t.clock);
    return incarnation === undefined ? frame : { ...frame, incarnation };
  }

  /** Connected to a log of incarnation `first` that has delivered DM seqs 1…3. */
  async function connectedWithHistory(options: Partial<ChatClientOptions> = {}, first = 'log-a') {
    const t = setup(options);
    const resets: ResetInfo[] = [];
    const order: string[] = [];
    t.client.on('reset', (info) => {
      resets.push(info);
      order.push('reset');
    });
    t.client.on('connected', () => order.push('connected'));
    const connecting = t.client.connect();
    await flush();
    t.net.last.push(welcomeOf(t, first));
    await connecting;
    for (const seq of [1, 2, 3]) t.net.last.push(eventFrame(message(DM, seq)));
    expect(t.seqs()).toEqual([1, 2, 3]);
    return { ...t, resets, order };
  }

  /** Drops the connection and answers the reconnect with a welcome naming `incarnation`. */
  async function reconnectTo(t: Harness, incarnation: string | undefined) {
    t.net.last.drop(1006);
    await t.clock.advance(1_000);
    await flush();
    const conn = t.net.last;
    conn.push(welcomeOf(t, incarnation));
    await flush();
    return conn;
  }

  it('remembers the incarnation of the welcome', async () => {
    const t = await connectedWithHistory();
    expect(t.client.incarnation).toBe('log-a');
    expect(t.client.welcome?.incarnation).toBe('log-a');
    t.client.close();
  });

  it('a new incarnation drops the cursors, so the new log’s seq 1 is delivered, not taken for a duplicate', async () => {
    const t = await connectedWithHistory();
    const conn = await reconnectTo(t, 'log-b');
    expect(t.resets).toEqual([{ previousIncarnation: 'log-a', incarnation: 'log-b', cursors: { [DM]: 3 } }]);
    expect(t.order).toEqual(['connected', 'reset', 'connected']);
    expect(t.client.incarnation).toBe('log-b');
    expect(t.client.getCursor(DM)).toBeUndefined();
    expect(t.client.getCursors()).toEqual({});
    // No catch-up from the old cursor: seq 3 means nothing in the new log.
    expect(conn.framesOfType('sync')).toEqual([]);

    const fresh = { ...message(DM, 1), clientMessageId: 'after-restart-1' };
    conn.push(eventFrame(fresh));
    conn.push(eventFrame({ ...message(DM, 2), clientMessageId: 'after-restart-2' }));
    expect(t.events.slice(3).map((e) => [e.event.seq, e.event.kind === 'message' && e.event.clientMessageId])).toEqual([
      [1, 'after-restart-1'],
      [2, 'after-restart-2'],
    ]);
    expect(conn.framesOfType('ack').map((a) => a.seq)).toEqual([1, 2]);
    expect(t.client.getCursor(DM)).toBe(2);
    t.client.close();
  });

  it('the same incarnation (or a welcome without one) keeps the cursors: seq 1 again is a duplicate', async () => {
    for (const incarnation of ['log-a', undefined]) {
      const t = await connectedWithHistory();
      const conn = await reconnectTo(t, incarnation);
      expect(t.resets).toEqual([]);
      expect(t.client.incarnation).toBe('log-a');
      expect(conn.framesOfType('sync').map((s) => [s.conversationId, s.afterSeq])).toEqual([[DM, 3]]);
      conn.push(eventFrame(message(DM, 1)));
      expect(t.seqs()).toEqual([1, 2, 3]);
      t.client.close();
    }
  });

  it('drops cursors from a previous run when the first welcome names another incarnation than theirs', async () => {
    const t = setup({ cursors: { [DM]: 5 }, incarnation: 'log-a' });
    const resets: ResetInfo[] = [];
    t.client.on('reset', (info) => resets.push(info));
    const connecting = t.client.connect();
    await flush();
    t.net.last.push(welcomeOf(t, 'log-b'));
    await connecting;
    expect(resets).toEqual([{ previousIncarnation: 'log-a', incarnation: 'log-b', cursors: { [DM]: 5 } }]);
    expect(t.net.last.framesOfType('sync')).toEqual([]);
    t.net.last.push(eventFrame(message(DM, 1)));
    expect(t.seqs()).toEqual([1]);
    t.client.close();
  });

  it('keeps cursors from a previous run of the same incarnation', async () => {
    const t = setup({ cursors: { [DM]: 5 }, incarnation: 'log-a' });
    const connecting = t.client.connect();
    await flush();
    t.net.last.push(welcomeOf(t, 'log-a'));
    await connecting;
    expect(t.net.last.framesOfType('sync').map((s) => s.afterSeq)).toEqual([5]);
    t.client.close();
  });

  it('sends unacknowledged messages to the new log, a queued one on timers again', async () => {
    const t = await connectedWithHistory({ sendTimeoutMs: 1_000 });
    const sending = t.client.send(DM, 'held by the old log', { clientMessageId: 'q-1' });
    t.net.last.push({ type: 'queued', conversationId: DM, clientMessageId: 'q-1', serverTimeMs: 2_000_000, duplicate: false });
    await t.clock.advance(1_000);
    expect(t.net.last.framesOfType('send')).toHaveLength(1); // queued: durable there, no timer
    const conn = await reconnectTo(t, 'log-b');
    expect(conn.framesOfType('send').map((f) => f.clientMessageId)).toEqual(['q-1']);
    await t.clock.advance(1_000);
    expect(conn.framesOfType('send').map((f) => f.clientMessageId)).toEqual(['q-1', 'q-1']);
    conn.push(sentFrame(DM, 'q-1', 1));
    await expect(sending).resolves.toMatchObject({ seq: 1 });
    expect(t.client.getCursor(DM)).toBe(1);
    t.client.close();
  });

  it('forgets receipt watermarks and pending reads of the old log', async () => {
    const t = await connectedWithHistory();
    const receipts: number[] = [];
    t.client.on('receipt', (r) => receipts.push(r.upToSeq));
    t.net.last.push({ type: 'receipt', conversationId: DM, state: 'read', upToSeq: 3, userId: 'bob', deviceId: 'bob-phone' });
    t.net.last.drop(1006);
    t.client.markRead(DM, 3); // offline: kept for the reconnect
    await t.clock.advance(1_000);
    await flush();
    const conn = t.net.last;
    conn.push(welcomeOf(t, 'log-b'));
    await flush();
    expect(conn.framesOfType('read')).toEqual([]);
    conn.push({ type: 'receipt', conversationId: DM, state: 'read', upToSeq: 1, userId: 'bob', deviceId: 'bob-phone' });
    expect(receipts).toEqual([3, 1]);
    t.client.close();
  });
});

/**
 * End to end over real WebSockets: graceful shutdown. A closing node says `goaway` and closes with
 * SHUTTING_DOWN; the SDK reports the disconnect and, in a two-node deployment, moves to the node the
 * `goaway` names and carries on without losing or duplicating anything.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChatClient,
  HistoryRecorder,
  directConversationId,
  type ConversationEvent,
  type DisconnectInfo,
  type WelcomeInfo,
} from '../sdk/index.js';
import { CloseCodes } from '../system/protocol/version.js';
import { startTwoNodeCluster, type Cluster } from './cluster.js';
import { E2E, RawClient, expectCleanHistory, waitUntil } from './support.js';

let t: E2E | undefined;
let cluster: Cluster | undefined;
const clients: ChatClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await t?.close();
  await cluster?.close();
  t = undefined;
  cluster = undefined;
});

describe('e2e: graceful shutdown', () => {
  it('server.close() sends goaway, closes with SHUTTING_DOWN, and the SDK reports the disconnect', async () => {
    t = await E2E.start({ limits: { reconnectAfterMs: 200 } });
    const alice = await t.connect('alice', 'phone');
    const bob = await t.raw('bob', 'phone');
    const dm = directConversationId('alice', 'bob');
    const sent = await alice.client.send(dm, 'last words');
    await bob.waitFor((f) => f.type === 'event' && f.event.seq === sent.seq, 'bob to get the message');

    const disconnected: DisconnectInfo[] = [];
    alice.client.on('disconnected', (info) => disconnected.push(info));
    const health = await fetch(`${t.server.httpUrl}/healthz`);
    expect(health.status).toBe(200);

    await t.server.close();

    const goaway = await bob.waitFor((f) => f.type === 'goaway', 'goaway');
    expect(goaway).toEqual({ type: 'goaway', reason: 'shutting_down', reconnectAfterMs: 200 });
    expect(await bob.waitClosed()).toBe(CloseCodes.SHUTTING_DOWN);
    // goaway is the last frame before the close.
    expect(bob.frames.at(-1)).toEqual(goaway);
    bob.noteVanished();

    await waitUntil(() => disconnected.length > 0, 'the SDK to report the disconnect');
    expect(disconnected[0]).toMatchObject({ willReconnect: true });
    expect([CloseCodes.SHUTTING_DOWN, CloseCodes.GOING_AWAY]).toContain(disconnected[0]!.code);
    expect(alice.client.state).not.toBe('connected');
    expect(alice.client.state).not.toBe('closed');

    // Nothing was lost up to the shutdown: bob's raw client did not ack, but it received it.
    t.expectNoViolations();
  });

  it('two nodes: the goaway names the other node, the SDK moves there and keeps every message', async () => {
    cluster = await startTwoNodeCluster({ reconnectAfterMs: 50, shutdownDrainMs: 500 });
    const history = new HistoryRecorder();
    const connect = (userId: string, url: string, received: ConversationEvent[], welcomes: WelcomeInfo[]) => {
      const client = new ChatClient({
        urls: [url],
        token: () => cluster!.token(userId, 'phone'),
        history,
        reconnectMinDelayMs: 20,
        reconnectMaxDelayMs: 200,
      });
      clients.push(client);
      client.on('event', (event) => received.push(event));
      client.on('connected', (welcome) => welcomes.push(welcome));
      return client;
    };
    const aliceGot: ConversationEvent[] = [];
    const bobGot: ConversationEvent[] = [];
    const aliceWelcomes: WelcomeInfo[] = [];
    const bobWelcomes: WelcomeInfo[] = [];
    const alice = connect('alice', cluster.a.server.wsUrl, aliceGot, aliceWelcomes);
    const bob = connect('bob', cluster.b.server.wsUrl, bobGot, bobWelcomes);
    await Promise.all([alice.connect(), bob.connect()]);
    expect(aliceWelcomes.map((w) => w.nodeId)).toEqual(['node-a']);
    expect(bobWelcomes.map((w) => w.nodeId)).toEqual(['node-b']);
    const dm = directConversationId('alice', 'bob');

    // Across nodes before the shutdown.
    await alice.send(dm, 'from node a');
    await bob.send(dm, 'from node b');
    await waitUntil(() => aliceGot.length === 1 && bobGot.length === 1, 'one message each way');

    // A raw client on node A sees what the shutdown tells it.
    const raw = await RawClient.open(cluster.a.server.wsUrl, 'carol', 'phone');
    await raw.auth(await cluster.token('carol', 'phone'));

    const closing = cluster.a.server.close();
    // Traffic while alice moves: bob writes to her, she writes to him.
    const fromBob = Array.from({ length: 5 }, (_, i) => bob.send(dm, `while moving ${i}`));
    const fromAlice = Array.from({ length: 3 }, (_, i) => alice.send(dm, `alice while moving ${i}`));
    await closing;

    const goaway = await raw.waitFor((f) => f.type === 'goaway', 'goaway');
    expect(goaway).toEqual({ type: 'goaway', reason: 'shutting_down', reconnectAfterMs: 50, urls: [cluster.b.server.wsUrl] });
    expect(await raw.waitClosed()).toBe(CloseCodes.SHUTTING_DOWN);

    await waitUntil(() => aliceWelcomes.length === 2, 'alice to reconnect');
    expect(aliceWelcomes[1]!.nodeId).toBe('node-b');
    const accepted = await Promise.all([...fromBob, ...fromAlice]);
    const last = Math.max(...accepted.map((a) => a.seq));
    await waitUntil(() => alice.getCursor(dm) === last && bob.getCursor(dm) === last, 'both to catch up');

    // Every message once, in order, on each side.
    const seqs = (got: ConversationEvent[]) => got.map((e) => e.seq);
    expect(seqs(aliceGot)).toEqual([...seqs(aliceGot)].sort((x, y) => x - y));
    expect(new Set(seqs(aliceGot)).size).toBe(aliceGot.length);
    expect(aliceGot.map((e) => e.kind === 'message' && e.senderUserId)).toEqual(Array(6).fill('bob'));
    expect(bobGot.map((e) => e.kind === 'message' && e.senderUserId)).toEqual(Array(4).fill('alice'));
    expect(new Set(seqs(bobGot)).size).toBe(bobGot.length);
    expect(accepted.filter((a) => a.duplicate).length).toBeLessThanOrEqual(3);

    history.record({
      type: 'quiesce',
      atMs: Date.now(),
      devices: [
        { userId: 'alice', deviceId: 'phone' },
        { userId: 'bob', deviceId: 'phone' },
      ],
    });
    expectCleanHistory(history.events);
  });
});

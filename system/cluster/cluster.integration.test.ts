/**
 * Several gateway processes on the real backends (Cassandra, Redis, S3): a message reaches a
 * device connected to another gateway, a group spans gateways, and a client whose gateway is
 * killed with SIGKILL resumes on another one by cursor — all judged by the invariant checker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHistory, formatViolation } from '../../checker/index.js';
import { serviceEnv } from '../../infra/local/services-api.js';
import { ChatClient, HistoryRecorder, directConversationId, type ConversationEvent, type ResetInfo } from '../../sdk/index.js';
import { startCluster, type Cluster } from './cluster.js';
import { waitFor } from './fault-test-support.js';

const RUN = Date.now().toString(36);

async function devToken(httpUrl: string, userId: string, deviceId = 'phone'): Promise<string> {
  const response = await fetch(`${httpUrl}/dev/token`, { method: 'POST', body: JSON.stringify({ userId, deviceId }) });
  return ((await response.json()) as { token: string }).token;
}

describe('several gateways on Cassandra and Redis', () => {
  let cluster: Cluster;
  const history = new HistoryRecorder();
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    cluster = await startCluster({
      nodes: 3,
      world: 'production',
      basePort: 0,
      env: { ...process.env, ...serviceEnv(), CASSANDRA_KEYSPACE: 'chat_cluster_test', REDIS_KEY_PREFIX: `cluster-${RUN}:` },
    });
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await cluster?.stop();
  });

  function client(
    userId: string,
    urls: string[],
    deviceId = 'phone',
  ): { client: ChatClient; events: ConversationEvent[]; resets: ResetInfo[] } {
    const events: ConversationEvent[] = [];
    const resets: ResetInfo[] = [];
    const c = new ChatClient({
      urls,
      token: () => devToken(cluster.httpUrls[0]!, userId, deviceId),
      history,
      reconnectMinDelayMs: 100,
      reconnectMaxDelayMs: 500,
    });
    c.on('event', (e) => events.push(e));
    c.on('reset', (r) => resets.push(r));
    clients.push(c);
    return { client: c, events, resets };
  }

  it('delivers across gateways in order, groups span gateways, and a SIGKILLed gateway loses nothing', async () => {
    const alice = `alice-${RUN}`;
    const bob = `bob-${RUN}`;
    const carol = `carol-${RUN}`;
    const [url1, url2, url3] = cluster.wsUrls as [string, string, string];
    const a = client(alice, [url1]);
    // Bob lists gw-2 first and gw-3 as his fallback.
    const b = client(bob, [url2, url3]);
    const c = client(carol, [url3]);
    await Promise.all([a.client.connect(), b.client.connect(), c.client.connect()]);
    // One log, one incarnation, whichever gateway answers (stored in the keyspace at its first start).
    const incarnation = a.client.incarnation;
    expect(incarnation).toMatch(/^[0-9a-f]{32}$/);
    expect([b.client.incarnation, c.client.incarnation]).toEqual([incarnation, incarnation]);
    const dm = directConversationId(alice, bob);

    await Promise.all(Array.from({ length: 20 }, (_, i) => a.client.send(dm, `before ${i}`)));
    await waitFor(() => b.events.filter((e) => e.conversationId === dm).length === 20, 'bob to get 20 messages across gateways');

    const group = await a.client.createGroup('spans gateways', [bob, carol]);
    await c.client.send(group.conversationId, 'from gw-3');
    await waitFor(
      () => a.events.some((e) => e.conversationId === group.conversationId && e.kind === 'message'),
      'alice to get the group message',
    );

    // Bob's gateway dies without a goodbye while alice keeps sending.
    cluster.nodes[1]!.process.kill('SIGKILL');
    const during = Promise.all(Array.from({ length: 20 }, (_, i) => a.client.send(dm, `during ${i}`)));
    await during;
    await waitFor(() => b.events.filter((e) => e.conversationId === dm).length === 40, 'bob to resume on gw-3 and get everything', 30_000);
    const seqs = b.events.filter((e) => e.conversationId === dm).map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // The log outlived its gateway: no reset, the same incarnation on the gateway bob moved to.
    expect(b.resets).toEqual([]);
    expect(b.client.incarnation).toBe(incarnation);

    history.record({
      type: 'quiesce',
      atMs: Date.now(),
      devices: [alice, bob, carol].map((userId) => ({ userId, deviceId: 'phone' })),
    });
    // Presence is not judged here: a killed gateway cannot report its clients offline, and the
    // TTL (60 s) is longer than this test.
    const result = checkHistory(history.events, { invariants: ['durability', 'order', 'no-duplicates', 'receipts', 'membership'] });
    expect(result.violations.map(formatViolation)).toEqual([]);
  }, 120_000);
});

/**
 * Fault: Cassandra stopped while messages flow, under two gateways (issue "Production backends",
 * docs/write-ahead-log.md). A private Cassandra process is really stopped and started again (the
 * shared one other suites use is left alone). While it is down, sends are answered `queued` and
 * logged in each gateway's write-ahead log; one gateway is killed with SIGKILL holding logged sends
 * and restarted after Cassandra returns, replaying what its log kept. At the end nothing acked is
 * lost, order holds on every device, no message is seen twice, and both logs are empty.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHistory, formatViolation } from '../../checker/index.js';
import { REPO_ROOT, loadConfig, type LocalConfig } from '../../infra/local/config.js';
import { ensureServices, serviceEnv, stopServices } from '../../infra/local/services-api.js';
import { ChatClient, HistoryRecorder, directConversationId, type ConversationEvent } from '../../sdk/index.js';
import { startCluster, type Cluster } from './cluster.js';
import { freePort, waitFor } from './fault-test-support.js';

const RUN = Date.now().toString(36);

/** A gauge's value from a node's /metrics page. */
async function gauge(httpUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  if (!line) throw new Error(`${name} not on ${httpUrl}/metrics`);
  return Number(line.split(' ').at(-1));
}

describe('fault: Cassandra stopped while messages flow', () => {
  let cassandraConfig: LocalConfig;
  let cluster: Cluster;
  const clients: ChatClient[] = [];
  const serviceRoot = path.join(REPO_ROOT, '.services', `outage-test-${RUN}`);

  beforeAll(async () => {
    const shared = loadConfig();
    cassandraConfig = loadConfig({
      ...process.env,
      LOCAL_SERVICES_DIR: serviceRoot,
      // The downloaded jars are shared; only data, logs and ports are private.
      LOCAL_SERVICES_CACHE: shared.cacheDir,
      LOCAL_CASSANDRA_PORT: String(await freePort()),
      LOCAL_CASSANDRA_STORAGE_PORT: String(await freePort()),
      LOCAL_CASSANDRA_HEAP: '512m',
    });
    await ensureServices(['cassandra'], { config: cassandraConfig });
    cluster = await startCluster({
      nodes: 2,
      world: 'production',
      basePort: 0,
      walRoot: path.join(serviceRoot, 'wal'),
      env: {
        ...process.env,
        ...serviceEnv(),
        CASSANDRA_CONTACT_POINTS: serviceEnv(cassandraConfig).CASSANDRA_CONTACT_POINTS,
        CASSANDRA_KEYSPACE: 'chat_outage_test',
        // A stopped node refuses connections at once; a hung one is cut off after this.
        CASSANDRA_REQUEST_TIMEOUT_MS: '2000',
        REDIS_KEY_PREFIX: `outage-${RUN}:`,
      },
      limits: ['walReplayRetryMs=200', 'walReplayRetryMaxMs=1000'],
    });
  }, 180_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await cluster?.stop();
    if (cassandraConfig) await stopServices(['cassandra'], { config: cassandraConfig });
    rmSync(serviceRoot, { recursive: true, force: true });
  }, 60_000);

  it('queues in the write-ahead log, loses and reorders nothing, and drains after Cassandra returns', async () => {
    const history = new HistoryRecorder();
    const alice = `alice-${RUN}`;
    const bob = `bob-${RUN}`;
    const token = async (userId: string, deviceId: string) => {
      const response = await fetch(`${cluster.httpUrls[0]}/dev/token`, { method: 'POST', body: JSON.stringify({ userId, deviceId }) });
      return ((await response.json()) as { token: string }).token;
    };
    const options = { history, reconnectMinDelayMs: 100, reconnectMaxDelayMs: 500 };
    const received = new Map<string, ConversationEvent[]>();
    const client = (userId: string, deviceId: string, urls: string[]) => {
      const c = new ChatClient({ urls, token: () => token(userId, deviceId), ...options });
      const events: ConversationEvent[] = [];
      received.set(`${userId}/${deviceId}`, events);
      c.on('event', (e) => events.push(e));
      clients.push(c);
      return c;
    };
    // alice/phone on gateway 1; bob/phone on gateway 2 (failing over to 1); alice/tablet on gateway 2.
    const alicePhone = client(alice, 'phone', [cluster.wsUrls[0]!]);
    const bobPhone = client(bob, 'phone', [cluster.wsUrls[1]!, cluster.wsUrls[0]!]);
    const aliceTablet = client(alice, 'tablet', [cluster.wsUrls[1]!, cluster.wsUrls[0]!]);
    await Promise.all([alicePhone.connect(), bobPhone.connect(), aliceTablet.connect()]);
    const dm = directConversationId(alice, bob);
    for (let i = 0; i < 4; i++) await alicePhone.send(dm, `before ${i}`);
    // Bob's gateway learns alice exists (1:1 sends need that, and the directory is in Cassandra).
    await bobPhone.send(dm, 'bob before');
    await waitFor(() => received.get(`${bob}/phone`)!.length === 4, 'the first 4 messages at bob', 30_000);

    await stopServices(['cassandra'], { config: cassandraConfig });
    let queuedAnswers = 0;
    alicePhone.on('queued', () => queuedAnswers++);
    bobPhone.on('queued', () => queuedAnswers++);
    const duringOutage = [
      ...Array.from({ length: 15 }, (_, i) => alicePhone.send(dm, `alice during ${i}`)),
      ...Array.from({ length: 10 }, (_, i) => bobPhone.send(dm, `bob during ${i}`)),
    ];
    await waitFor(() => queuedAnswers === 25, 'every send during the outage answered queued', 30_000);
    expect(await gauge(cluster.httpUrls[0]!, 'chat_wal_depth')).toBe(15);
    expect(await gauge(cluster.httpUrls[1]!, 'chat_wal_depth')).toBe(10);
    // Nothing was numbered, so nothing reached the other side.
    expect(received.get(`${bob}/phone`)).toHaveLength(4);

    // Gateway 2 dies holding bob's logged sends; bob fails over to gateway 1 and re-sends them
    // there (they queue again: the replay of both logs must number each once).
    cluster.nodes[1]!.process.kill('SIGKILL');
    await waitFor(() => bobPhone.state === 'connected' && aliceTablet.state === 'connected', 'bob and the tablet on gateway 1', 30_000);

    await ensureServices(['cassandra'], { config: cassandraConfig });
    const restartedAt = Date.now();
    await cluster.restart(1);

    const results = await Promise.all(duringOutage);
    const drainedMs = Date.now() - restartedAt;
    expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 6));
    for (let i = 0; i < 5; i++) await alicePhone.send(dm, `after ${i}`);
    await waitFor(() => received.get(`${bob}/phone`)!.length === 4 + 15 + 5, "alice's 24 messages at bob", 30_000);
    await waitFor(() => received.get(`${alice}/tablet`)!.length === 35, 'all 35 messages at the tablet', 30_000);
    // Sender order: each sender's messages keep their send order in the conversation order.
    const order = received
      .get(`${alice}/tablet`)!
      .flatMap((e) => (e.kind === 'message' ? [Buffer.from(e.bodyBase64, 'base64').toString()] : []));
    expect(order.filter((b) => b.startsWith('alice during'))).toEqual(Array.from({ length: 15 }, (_, i) => `alice during ${i}`));
    expect(order.filter((b) => b.startsWith('bob during'))).toEqual(Array.from({ length: 10 }, (_, i) => `bob during ${i}`));
    // Entries logged twice (bob's re-sends on gateway 1) replay as duplicates, possibly a retry later.
    for (const url of cluster.httpUrls)
      await waitFor(async () => (await gauge(url, 'chat_wal_depth')) === 0, `an empty log on ${url}`, 30_000);
    console.log(`write-ahead log drained ${drainedMs} ms after Cassandra was healthy again`);

    history.record({
      type: 'quiesce',
      atMs: Date.now(),
      devices: [
        { userId: alice, deviceId: 'phone' },
        { userId: alice, deviceId: 'tablet' },
        { userId: bob, deviceId: 'phone' },
      ],
    });
    const result = checkHistory(history.events, { invariants: ['durability', 'order', 'no-duplicates', 'membership'] });
    expect(result.violations.map(formatViolation)).toEqual([]);
    expect(history.events.filter((e) => e.type === 'queued').length).toBeGreaterThanOrEqual(25);
  }, 240_000);
});

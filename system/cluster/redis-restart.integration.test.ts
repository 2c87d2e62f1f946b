/**
 * Fault: Redis restarted (data lost) under two gateways while messages flow. The gateways notice
 * the reconnect and re-announce their sessions (routes, presence, inbox sweep), so live delivery
 * and presence recover well before the next heartbeat (30 s here), and no acknowledged message is
 * lost or reordered. Uses a private Redis process so other suites are not disturbed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHistory, formatViolation } from '../../checker/index.js';
import { serviceEnv } from '../../infra/local/services-api.js';
import { ChatClient, HistoryRecorder, directConversationId, type ConversationEvent } from '../../sdk/index.js';
import { startCluster, type Cluster } from './cluster.js';
import { freePort, waitFor } from './fault-test-support.js';

const RUN = Date.now().toString(36);
/** Long enough that recovery within the bounds below cannot be the heartbeats' doing. */
const HEARTBEAT_MS = 30_000;
/** Recovery bound: a third of a heartbeat interval (the first heartbeat after connecting comes at 30 s). */
const RECOVERY_BOUND_MS = HEARTBEAT_MS / 3;

function startRedis(port: number): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('fault: Redis restarted under two gateways', () => {
  let redisPort: number;
  let redis: ChildProcess;
  let cluster: Cluster;
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    redisPort = await freePort();
    redis = startRedis(redisPort);
    await waitForPort(redisPort);
    cluster = await startCluster({
      nodes: 2,
      world: 'production',
      basePort: 0,
      env: {
        ...process.env,
        ...serviceEnv(),
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        CASSANDRA_KEYSPACE: 'chat_fault_test',
        REDIS_KEY_PREFIX: `fault-${RUN}:`,
      },
      limits: [`heartbeatIntervalMs=${HEARTBEAT_MS}`, `presenceTtlMs=${4 * HEARTBEAT_MS}`, `registryTtlMs=${4 * HEARTBEAT_MS}`],
    });
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await cluster?.stop();
    redis?.kill('SIGKILL');
  });

  it('loses and reorders nothing, and delivery and presence recover', async () => {
    const history = new HistoryRecorder();
    const alice = `alice-${RUN}`;
    const bob = `bob-${RUN}`;
    const token = async (userId: string) => {
      const response = await fetch(`${cluster.httpUrls[0]}/dev/token`, {
        method: 'POST',
        body: JSON.stringify({ userId, deviceId: 'phone' }),
      });
      return ((await response.json()) as { token: string }).token;
    };
    const bobEvents: ConversationEvent[] = [];
    const presenceOfBob: boolean[] = [];
    const a = new ChatClient({
      urls: [cluster.wsUrls[0]!],
      token: () => token(alice),
      history,
      reconnectMinDelayMs: 100,
      reconnectMaxDelayMs: 500,
    });
    const b = new ChatClient({
      urls: [cluster.wsUrls[1]!],
      token: () => token(bob),
      history,
      reconnectMinDelayMs: 100,
      reconnectMaxDelayMs: 500,
    });
    clients.push(a, b);
    b.on('event', (e) => bobEvents.push(e));
    a.on('presence', (p) => {
      if (p.userId === bob) presenceOfBob.push(p.online);
    });
    await Promise.all([a.connect(), b.connect()]);
    await a.subscribePresence([bob]);
    const dm = directConversationId(alice, bob);
    await waitFor(() => presenceOfBob.at(-1) === true, 'bob shown online');

    for (let i = 0; i < 10; i++) await a.send(dm, `before ${i}`);
    await waitFor(() => bobEvents.length === 10, 'the first 10 messages');

    // Redis dies and comes back empty: no registry, no presence, no subscriptions.
    redis.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const sendsDuringOutage = Array.from({ length: 10 }, (_, i) => a.send(dm, `during ${i}`));
    await new Promise((r) => setTimeout(r, 300));
    redis = startRedis(redisPort);
    await waitForPort(redisPort);
    const restartedAt = Date.now();

    await Promise.all(sendsDuringOutage);
    for (let i = 0; i < 10; i++) await a.send(dm, `after ${i}`);
    await waitFor(() => bobEvents.length === 30, 'every message after the restart');
    const recoveredMs = Date.now() - restartedAt;
    expect(bobEvents.map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // The gateways re-announced bob (route, presence, inbox sweep) on reconnecting to Redis.
    process.stdout.write(`redis restart: every message delivered ${recoveredMs} ms after Redis was back\n`);
    expect(recoveredMs).toBeLessThan(RECOVERY_BOUND_MS);
    await waitFor(() => presenceOfBob.at(-1) === true, 'bob shown online again after the restart', RECOVERY_BOUND_MS);
    expect(Date.now() - restartedAt).toBeLessThan(RECOVERY_BOUND_MS);

    history.record({ type: 'quiesce', atMs: Date.now(), devices: [alice, bob].map((userId) => ({ userId, deviceId: 'phone' })) });
    const result = checkHistory(history.events, { invariants: ['durability', 'order', 'no-duplicates', 'membership'] });
    expect(result.violations.map(formatViolation)).toEqual([]);
  }, 90_000);
});

/**
 * Test support for the panel test: a gateway on the embedded world whose message store can be
 * switched off (so the write-ahead log fills and replays), and a short script of traffic that
 * moves every metric family the gateway exports — 1:1 and group messages (fan-out, live
 * deliveries, latency), an offline device with a push token (pushes, then an inbox drained on
 * reconnect), error frames, a device unlinked (the server drops its connection) and an abnormal
 * close, sends logged during a store outage and replayed.
 */
import WebSocket from 'ws';
import { ChatClient, directConversationId } from '../../sdk/index.js';
import { MemoryWriteAheadLog } from '../../system/adapters/memory/memory-write-ahead-log.js';
import type { Limits } from '../../system/core/limits.js';
import type { MessageStore } from '../../system/ports/message-store.js';
import { PROTOCOL_VERSION } from '../../system/protocol/version.js';
import { OutageMessageStore } from '../../system/testing/outage-message-store.js';
import { startEmbeddedServer, type EmbeddedServer } from '../../system/worlds/embedded-server.js';

export interface OutageGateway {
  server: EmbeddedServer;
  store: OutageMessageStore;
  wal: MemoryWriteAheadLog;
}

export async function startOutageGateway(limits: Partial<Limits>): Promise<OutageGateway> {
  const wal = new MemoryWriteAheadLog();
  let store: OutageMessageStore | undefined;
  const server = await startEmbeddedServer({
    port: 0,
    nodeId: 'panel-test-node',
    wal,
    messages: (memory: MessageStore) => (store = new OutageMessageStore(memory)),
    limits,
  });
  return { server, store: store!, wal };
}

async function devToken(httpUrl: string, userId: string, deviceId: string): Promise<string> {
  const response = await fetch(`${httpUrl}/dev/token`, { method: 'POST', body: JSON.stringify({ userId, deviceId }) });
  if (!response.ok) throw new Error(`/dev/token answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Runs the script; `run` makes user ids unique so a long-lived gateway can take it twice. */
export async function driveEveryMetricFamily(gateway: OutageGateway, run: string): Promise<void> {
  const { server, store, wal } = gateway;
  const clients: ChatClient[] = [];
  const connect = async (user: string, device: string) => {
    const client = new ChatClient({
      urls: [server.wsUrl],
      token: await devToken(server.httpUrl, user, device),
      reconnectMinDelayMs: 20,
      reconnectMaxDelayMs: 200,
    });
    clients.push(client);
    await client.connect();
    return client;
  };
  const alice = `alice-${run}`;
  const bob = `bob-${run}`;
  const carol = `carol-${run}`;
  try {
    const alicePhone = await connect(alice, 'phone');
    const aliceTablet = await connect(alice, 'tablet');
    await connect(bob, 'phone');
    // Carol registers for pushes and goes offline: messages to her are queued and pushed.
    const carolPhone = await connect(carol, 'phone');
    await carolPhone.setPushToken(`fcm:panel-test-${run}`);
    carolPhone.close();

    const group = (await alicePhone.createGroup(`panels-${run}`, [bob, carol])).conversationId;
    const direct = directConversationId(alice, bob);
    for (let i = 0; i < 5; i++) {
      await alicePhone.send(group, `group ${i}`);
      await alicePhone.send(direct, `direct ${i}`);
    }
    await waitUntil(() => server.world.push.sent.length > 0, 'a push to the offline device');

    // Sends during a message-store outage are logged, then replayed when it returns.
    store.down = true;
    const queued = [0, 1, 2].map((i) => alicePhone.send(direct, `during the outage ${i}`));
    await waitUntil(() => wal.pending().length === 3, 'three sends in the write-ahead log');
    store.down = false;
    await Promise.all(queued);

    // Carol's inbox drains when she is back.
    await connect(carol, 'phone');

    // A connection the server drops (not the client's own close): the tablet is unlinked.
    await alicePhone.unlinkDevice('tablet');
    await waitUntil(() => aliceTablet.state === 'closed', 'the unlinked tablet closed');

    await sendErrorFramesAndCloseAbnormally(server.wsUrl, await devToken(server.httpUrl, `mallory-${run}`, 'laptop'));
  } finally {
    for (const client of clients) client.close();
  }
}

/** A frame that is not JSON, one of an unknown type, then a close with an application code. */
async function sendErrorFramesAndCloseAbnormally(wsUrl: string, token: string): Promise<void> {
  const socket = new WebSocket(wsUrl);
  const errors: unknown[] = [];
  socket.on('message', (data: WebSocket.RawData) => {
    const frame = JSON.parse(Buffer.from(data as Buffer).toString('utf8')) as { type?: string };
    if (frame.type === 'error') errors.push(frame);
  });
  await new Promise<void>((resolve, reject) => socket.once('open', () => resolve()).once('error', reject));
  socket.send(JSON.stringify({ type: 'auth', v: PROTOCOL_VERSION, token }));
  socket.send('this is not json');
  socket.send(JSON.stringify({ type: 'no_such_frame', rid: 'x1' }));
  await waitUntil(() => errors.length >= 2, 'two error frames');
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.close(4000, 'panel test');
  await closed;
}

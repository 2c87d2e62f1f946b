/**
 * Restarts of the embedded server, over real sockets, seen through the SDK. Started with empty
 * stores (what `npm start` and `npm run serve` do), the server's log starts over: seqs from 1
 * again, every acknowledged send forgotten. Its `welcome` names a new incarnation, and the client
 * resets its cursors instead of dropping the new log's messages as duplicates. Started on the
 * stores of the previous process (the way a durable world restarts), it names the same
 * incarnation and nothing is reset.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient, directConversationId, type ConversationEvent, type ResetInfo } from '../sdk/index.js';
import { startEmbeddedServer, type EmbeddedServer, type EmbeddedServerOptions } from '../system/worlds/embedded-server.js';
import { waitUntil } from './support.js';

const DM = directConversationId('alice', 'bob');

describe('an embedded server restarted', () => {
  const servers: EmbeddedServer[] = [];
  const clients: ChatClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const server of servers.splice(0)) await server.close();
  });

  async function start(options: EmbeddedServerOptions = {}): Promise<EmbeddedServer> {
    const server = await startEmbeddedServer({ prometheus: false, ...options });
    servers.push(server);
    return server;
  }

  /** Stops the server and starts another process on the same port (on `stores`, if given). */
  async function restart(server: EmbeddedServer, stores?: EmbeddedServer['world']['stores']): Promise<EmbeddedServer> {
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    return start({ port: server.port, ...(stores && { stores }) });
  }

  async function connect(server: EmbeddedServer, userId: string) {
    const { token } = await server.world.core.auth.issueToken({ userId, deviceId: 'phone' });
    const client = new ChatClient({ urls: [server.wsUrl], token, reconnectMinDelayMs: 20, reconnectMaxDelayMs: 200 });
    clients.push(client);
    const delivered: ConversationEvent[] = [];
    const resets: ResetInfo[] = [];
    client.on('event', (event) => delivered.push(event));
    client.on('reset', (info) => resets.push(info));
    await client.connect();
    return { client, delivered, resets };
  }

  const idsOf = (events: ConversationEvent[]) => events.map((e) => [e.seq, e.kind === 'message' ? e.clientMessageId : e.op]);

  it('with empty stores: a new incarnation, and the client resets and receives the new log from seq 1', async () => {
    const first = await start();
    const alice = await connect(first, 'alice');
    const bob = await connect(first, 'bob');
    const before = bob.client.incarnation;
    expect(before).toMatch(/^[0-9a-f]{32}$/);
    expect(alice.client.incarnation).toBe(before);
    await alice.client.send(DM, 'one', { clientMessageId: 'm1' });
    await alice.client.send(DM, 'two', { clientMessageId: 'm2' });
    await waitUntil(() => bob.delivered.length === 2, 'bob to receive both messages');

    const second = await restart(first);
    const after = second.world.core.incarnation.current;
    expect(after).toMatch(/^[0-9a-f]{32}$/);
    expect(after).not.toBe(before);
    await waitUntil(() => bob.resets.length === 1 && alice.resets.length === 1, 'both clients to see the reset', 10_000);
    expect(bob.resets).toEqual([{ previousIncarnation: before, incarnation: after, cursors: { [DM]: 2 } }]);
    expect(bob.client.incarnation).toBe(after);
    expect(bob.client.getCursor(DM)).toBeUndefined();
    await waitUntil(() => bob.client.state === 'connected', 'bob to be connected to the new server', 10_000);

    // The new log numbers from 1 again; a client still holding cursor 2 would drop this message.
    const sent = await alice.client.send(DM, 'after the restart', { clientMessageId: 'm3' });
    expect(sent).toMatchObject({ seq: 1, duplicate: false });
    await waitUntil(() => bob.delivered.length === 3, 'bob to receive the first message of the new log');
    expect(idsOf(bob.delivered)).toEqual([
      [1, 'm1'],
      [2, 'm2'],
      [1, 'm3'],
    ]);
    expect(bob.client.getCursor(DM)).toBe(1);
  });

  it('on the stores of the previous process (a durable world): the same incarnation, nothing reset', async () => {
    const first = await start();
    const alice = await connect(first, 'alice');
    const bob = await connect(first, 'bob');
    const before = bob.client.incarnation;
    await alice.client.send(DM, 'one', { clientMessageId: 'm1' });
    await waitUntil(() => bob.delivered.length === 1, 'bob to receive the message');
    const reconnected = new Promise<void>((resolve) => bob.client.once('connected', () => resolve()));

    const second = await restart(first, first.world.stores);
    expect(second.world.core.incarnation.current).toBe(before);
    await reconnected;
    expect(bob.client.incarnation).toBe(before);
    expect(bob.resets).toEqual([]);
    expect(bob.client.getCursor(DM)).toBe(1);
    await waitUntil(() => alice.client.state === 'connected', 'alice to be connected to the new server', 10_000);

    // A retry of the acknowledged send is recognised, and the log goes on from seq 2.
    expect(await alice.client.send(DM, 'one', { clientMessageId: 'm1' })).toMatchObject({ seq: 1, duplicate: true });
    expect(await alice.client.send(DM, 'two', { clientMessageId: 'm2' })).toMatchObject({ seq: 2, duplicate: false });
    await waitUntil(() => bob.delivered.length === 2, 'bob to receive the next message');
    expect(idsOf(bob.delivered)).toEqual([
      [1, 'm1'],
      [2, 'm2'],
    ]);
  });
});

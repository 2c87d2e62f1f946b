import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { ChatClient } from './client.js';
import { WsTransport } from './ws-transport.js';

/** A throwaway local ws server (not the chat server): checks the socket plumbing only. */
async function echoServer(onConnection: (socket: WebSocket) => void) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  server.on('connection', onConnection);
  const { port } = server.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}`, server };
}

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    for (const client of server.clients) client.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

describe('WsTransport', () => {
  it('opens, exchanges text frames, and reports the close code', async () => {
    const { url, server } = await echoServer((socket) => {
      socket.on('message', (data) => {
        socket.send(`echo:${data.toString()}`);
        socket.close(4006, 'bye');
      });
    });
    servers.push(server);
    const transport = new WsTransport();
    const messages: string[] = [];
    const closed = new Promise<[number, string]>((resolve) => transport.onClose((code, reason) => resolve([code, reason])));
    transport.onMessage((text) => messages.push(text));
    await transport.open(url);
    transport.send('hello');
    expect(await closed).toEqual([4006, 'bye']);
    expect(messages).toEqual(['echo:hello']);
  });

  it('rejects open() when nothing listens', async () => {
    const { url, server } = await echoServer(() => undefined);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expect(new WsTransport().open(url)).rejects.toBeInstanceOf(Error);
  });

  it('carries a ChatClient handshake end to end', async () => {
    const { url, server } = await echoServer((socket) => {
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string };
        if (frame.type !== 'auth') return;
        socket.send(
          JSON.stringify({
            type: 'welcome',
            v: 1,
            userId: 'alice',
            deviceId: 'phone',
            nodeId: 'n',
            serverTimeMs: Date.now(),
            heartbeatIntervalMs: 30_000,
            limits: {},
          }),
        );
      });
    });
    servers.push(server);
    const client = new ChatClient({ urls: [url], token: 'tok' });
    const welcome = await client.connect();
    expect(welcome.deviceId).toBe('phone');
    client.close();
    expect(client.state).toBe('closed');
  });
});

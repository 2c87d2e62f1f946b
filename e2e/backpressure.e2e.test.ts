/**
 * A client that stops reading its socket must not make the server buffer without limit: the
 * server pauses, then disconnects it as a slow consumer, and the events it missed wait in its
 * inbox for the next connection. Real sockets, real kernel buffers.
 */
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedServer, type EmbeddedServer } from '../system/worlds/embedded-server.js';

const SEND_BUFFER_MAX_BYTES = 256 * 1024;
const BODY_BYTES = 16 * 1024;

let server: EmbeddedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function rawClient(url: string, token: string): Promise<{ ws: WebSocket; frames: Array<{ type: string; [k: string]: unknown }> }> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const frames: Array<{ type: string; [k: string]: unknown }> = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ type: 'auth', v: 1, token }));
  const deadline = Date.now() + 3_000;
  while (!frames.some((f) => f.type === 'welcome')) {
    if (Date.now() > deadline)
      throw new Error(
        `no welcome; got ${JSON.stringify(frames.map((f) => (f.type === 'error' ? f : f.type))).slice(0, 300)} state ${ws.readyState}`,
      );
    await new Promise((r) => setTimeout(r, 5));
  }
  return { ws, frames };
}

describe('backpressure over real sockets', () => {
  it('disconnects a client that stops reading, keeps server buffering bounded, and loses nothing', async () => {
    server = await startEmbeddedServer({
      prometheus: false,
      limits: {
        sendBufferPauseBytes: SEND_BUFFER_MAX_BYTES / 4,
        sendBufferBytesMax: SEND_BUFFER_MAX_BYTES,
        rateFramesPerSecond: 100_000,
        rateBurstFrames: 100_000,
        // The sender streams ~9 MB as fast as it can: its inbound byte budget is not under test here.
        connectionInboundBytesPerSecond: 1_000_000_000,
        connectionInboundBurstBytes: 1_000_000_000,
      },
    });
    const auth = server.world.core.auth;
    const sender = await rawClient(server.wsUrl, (await auth.issueToken({ userId: 'alice', deviceId: 'phone' })).token);
    const stalled = await rawClient(server.wsUrl, (await auth.issueToken({ userId: 'bob', deviceId: 'phone' })).token);
    // The stalled client's process stops reading: the kernel buffers fill, then the server's.
    const rawSocket = (stalled.ws as unknown as { _socket: import('node:net').Socket })._socket;
    rawSocket.pause();

    let peakBufferedBytes = 0;
    const session = [
      ...(server.world.node as unknown as { sessions: Set<{ device?: { userId: string }; connectionId: string }> }).sessions,
    ].find((s) => s.device?.userId === 'bob');
    expect(session).toBeDefined();
    const body = Buffer.alloc(BODY_BYTES, 7).toString('base64');
    const messages = 400; // 400 × ~22 KB frames ≈ 9 MB: far beyond every buffer involved
    let closedAt = -1;
    stalled.ws.once('close', () => (closedAt = sent));
    let sent = 0;
    for (; sent < messages; sent++) {
      sender.ws.send(JSON.stringify({ type: 'send', conversationId: 'dm:alice:bob', clientMessageId: `m${sent}`, body }));
      if (sent % 20 === 0) {
        await new Promise((r) => setTimeout(r, 5));
        const sessions = (server.world.node as unknown as { sessions: Set<{ connectionId: string; isClosed: boolean }> }).sessions;
        for (const s of sessions) {
          const buffered = (s as unknown as { connection: { bufferedBytes(): number } }).connection.bufferedBytes();
          peakBufferedBytes = Math.max(peakBufferedBytes, buffered);
        }
      }
    }
    // Every message was accepted (acked to the sender) despite the stalled recipient.
    const deadline = Date.now() + 5_000;
    while (sender.frames.filter((f) => f.type === 'sent').length < messages && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(sender.frames.filter((f) => f.type === 'sent')).toHaveLength(messages);

    // The server dropped the stalled connection instead of buffering 9 MB for it.
    rawSocket.resume();
    while (stalled.ws.readyState !== WebSocket.CLOSED && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(stalled.ws.readyState).toBe(WebSocket.CLOSED);
    expect(closedAt).toBeGreaterThan(0);
    // Server-side buffering stayed near the limit (one frame of slack), never the whole backlog.
    expect(peakBufferedBytes).toBeLessThanOrEqual(SEND_BUFFER_MAX_BYTES + 2 * BODY_BYTES * 2);

    // Nothing was lost: a new connection gets every message, in order, from the inbox.
    const again = await rawClient(server.wsUrl, (await auth.issueToken({ userId: 'bob', deviceId: 'phone' })).token);
    const seqs: number[] = [];
    const until = Date.now() + 10_000;
    while (seqs.length < messages && Date.now() < until) {
      for (const f of again.frames.splice(0)) {
        if (f.type !== 'event') continue;
        const event = f.event as { conversationId: string; seq: number };
        seqs.push(event.seq);
        again.ws.send(JSON.stringify({ type: 'ack', conversationId: event.conversationId, seq: event.seq }));
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const everySeq = Array.from({ length: messages }, (_, i) => i + 1);
    // Events the stalled connection already took in may come again; the client drops them by seq.
    expect([...new Set(seqs)].sort((a, b) => a - b)).toEqual(everySeq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    sender.ws.close();
    again.ws.close();
  }, 30_000);
});

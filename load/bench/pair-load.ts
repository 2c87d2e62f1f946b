import WebSocket from 'ws';
import { OpenModelMeter, type LoadResult } from './open-model.js';

export interface PairLoadOptions {
  /** 'system' speaks the chat protocol (auth, send, ack); 'relay' sends bare frames. */
  target: 'system' | 'relay';
  wsUrl: string;
  /** Several gateways: client i connects to wsUrls[i % n] (the two ends of a pair on different nodes). */
  wsUrls?: string[];
  httpUrl?: string;
  pairs: number;
  /** Total messages per second over all senders (open model: sent on schedule). */
  ratePerSecond: number;
  durationMs: number;
  settleMs?: number;
  warmupMs?: number;
  /** Called when the warm-up is over and the measured sends begin. */
  onMeasureStart?: () => void;
}

interface BenchClient {
  id: string;
  ws: WebSocket;
  peer: string;
  conversationId: string;
}

/**
 * 1:1 traffic between pairs of clients, a→b and b→a. Sends follow a fixed schedule (open model)
 * and latency runs from the scheduled send time, so a server that falls behind cannot hide it
 * (no coordinated omission).
 */
export async function runPairLoad(options: PairLoadOptions): Promise<LoadResult> {
  const meter = new OpenModelMeter({ ...options, deliveriesPerSend: 1 });
  const clients = await connectAll(options, meter.onDelivered);
  const result = await meter.run((n, scheduledAtMs) => sendOne(options.target, clients[n % clients.length]!, scheduledAtMs, n));
  for (const c of clients) c.ws.terminate();
  return result;
}

function sendOne(target: 'system' | 'relay', client: BenchClient, scheduledAtMs: number, n: number): void {
  const payload = JSON.stringify({ t: scheduledAtMs });
  if (target === 'relay') {
    client.ws.send(JSON.stringify({ to: client.peer, body: payload }));
    return;
  }
  client.ws.send(
    JSON.stringify({
      type: 'send',
      conversationId: client.conversationId,
      clientMessageId: `${client.id}-${n}`,
      body: Buffer.from(payload).toString('base64'),
    }),
  );
}

async function connectAll(options: PairLoadOptions, onDelivered: (sentAtMs: number) => void): Promise<BenchClient[]> {
  const clients: BenchClient[] = [];
  const urls = options.wsUrls ?? [options.wsUrl];
  const run = Date.now().toString(36);
  for (let i = 0; i < options.pairs; i++) {
    const a = `bench-${run}-a${i}`;
    const b = `bench-${run}-b${i}`;
    const conversationId = `dm:${a}:${b}`;
    const urlOf = (k: number) => urls[k % urls.length]!;
    clients.push(
      await connectOne({ ...options, wsUrl: urlOf(2 * i) }, a, b, conversationId, onDelivered),
      await connectOne({ ...options, wsUrl: urlOf(2 * i + 1) }, b, a, conversationId, onDelivered),
    );
  }
  return clients;
}

async function connectOne(
  options: PairLoadOptions,
  id: string,
  peer: string,
  conversationId: string,
  onDelivered: (sentAtMs: number) => void,
): Promise<BenchClient> {
  if (options.target === 'relay') {
    const ws = new WebSocket(`${options.wsUrl}?id=${id}`, { perMessageDeflate: false });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.on('message', (data) => onDelivered((JSON.parse(JSON.parse(data.toString()).body) as { t: number }).t));
    return { id, ws, peer, conversationId };
  }
  const response = await fetch(`${options.httpUrl}/dev/token`, { method: 'POST', body: JSON.stringify({ userId: id, deviceId: 'bench' }) });
  const { token } = (await response.json()) as { token: string };
  const ws = new WebSocket(options.wsUrl, { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const welcomed = new Promise<void>((resolve) => {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; event?: { conversationId: string; seq: number; bodyBase64?: string } };
      if (frame.type === 'welcome') resolve();
      if (frame.type === 'event' && frame.event?.bodyBase64) {
        onDelivered((JSON.parse(Buffer.from(frame.event.bodyBase64, 'base64').toString()) as { t: number }).t);
        ws.send(JSON.stringify({ type: 'ack', conversationId: frame.event.conversationId, seq: frame.event.seq }));
      }
    });
  });
  ws.send(JSON.stringify({ type: 'auth', v: 1, token }));
  await welcomed;
  return { id, ws, peer, conversationId };
}

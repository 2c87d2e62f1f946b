import * as hdr from 'hdr-histogram-js';
import WebSocket from 'ws';

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
  /** How long to wait for stragglers after the last scheduled send. */
  settleMs?: number;
  /** Load at the same rate before measuring, so JIT warm-up does not count (default 2000). */
  warmupMs?: number;
}

export interface PairLoadResult {
  target: string;
  scheduled: number;
  sent: number;
  /** Every measured message that arrived, the settle time after the window included. */
  delivered: number;
  deliveredPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; p999: number; max: number };
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
export async function runPairLoad(options: PairLoadOptions): Promise<PairLoadResult> {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  let delivered = 0;
  let deliveredInWindow = 0;
  let measureFromMs = Infinity;
  const clients = await connectAll(options, (sentAtMs) => {
    // Messages sent during the warm-up are neither counted nor timed.
    if (sentAtMs < measureFromMs) return;
    delivered++;
    if (performance.now() <= measureFromMs + options.durationMs) deliveredInWindow++;
    histogram.recordValue(Math.max(1, Math.round((performance.now() - sentAtMs) * 1000)));
  });
  const intervalMs = 1000 / options.ratePerSecond;
  const warmupMs = options.warmupMs ?? 2_000;
  const warmupCount = Math.floor(warmupMs / intervalMs);
  const scheduled = warmupCount + Math.floor(options.durationMs / intervalMs);
  let sent = 0;
  const startMs = performance.now();
  measureFromMs = startMs + warmupCount * intervalMs;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const dueCount = Math.min(scheduled, Math.floor((performance.now() - startMs) / intervalMs) + 1);
      while (sent < dueCount) {
        const scheduledAtMs = startMs + sent * intervalMs;
        const client = clients[sent % clients.length]!;
        sendOne(options.target, client, scheduledAtMs, sent);
        sent++;
      }
      if (sent >= scheduled) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const measured = sent - warmupCount;
  const settleUntil = performance.now() + (options.settleMs ?? 3_000);
  while (delivered < measured && performance.now() < settleUntil) await new Promise((r) => setTimeout(r, 20));
  for (const c of clients) c.ws.terminate();
  const us = (q: number) => histogram.getValueAtPercentile(q) / 1000;
  const result: PairLoadResult = {
    target: options.target,
    scheduled: scheduled - warmupCount,
    sent: measured,
    delivered,
    // Arrivals inside the measuring window: a system that falls behind shows it here.
    deliveredPerSecond: Math.round(deliveredInWindow / (options.durationMs / 1000)),
    latencyMs: { p50: us(50), p95: us(95), p99: us(99), p999: us(99.9), max: histogram.maxValue / 1000 },
  };
  histogram.destroy();
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

/**
 * Worker-thread side of the hostile-clients benchmark: authenticated clients that each send the
 * costliest frames of every type (system/testing/hostile-frames.ts) at exactly their rate limit.
 * On its own thread so that masking and sending megabytes per second does not delay the thread
 * that times the unrelated pair.
 */
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import type { Limits } from '../../system/core/limits.js';
import { hostileFrames, type HostileFrame } from '../../system/testing/hostile-frames.js';
import type { FloodReply, FloodRequest, FloodSetup } from './hostile-flood.js';

/** Bytes a hostile client lets wait in its own send buffer before it stops writing (as a socket would). */
const CLIENT_BACKLOG_BYTES_MAX = 1024 * 1024;

interface HostileClient {
  ws: WebSocket;
  limits: Limits;
  closedWithCode: number | undefined;
}

const setup = (workerData as { data: FloodSetup }).data;
const port = parentPort!;
const answers: Record<string, number> = {};
let framesSent = 0;
let bytesSent = 0;

const clients = await Promise.all(setup.tokens.map((token) => connect(setup.wsUrl, token)));
const frames = hostileFrames(clients[0]!.limits);
port.postMessage({ type: 'ready', frameKinds: frames.length } satisfies FloodReply);

let timer: NodeJS.Timeout | undefined;
port.on('message', (request: FloodRequest) => {
  if (request.type === 'start') timer = startFlood(frames);
  if (request.type === 'stop') {
    clearInterval(timer);
    for (const client of clients) client.ws.terminate();
    const closed = clients.filter((c) => c.closedWithCode !== undefined).map((c) => c.closedWithCode!);
    port.postMessage({ type: 'stopped', framesSent, bytesSent, answers, closedCodes: closed } satisfies FloodReply);
  }
});

/**
 * Each client sends on a fixed schedule at its rateFramesPerSecond (catching up after a late
 * timer, as a determined attacker would), starting at a different frame so all kinds are in
 * flight at once, as long as the server reads what it sent (its send buffer under
 * CLIENT_BACKLOG_BYTES_MAX).
 */
function startFlood(kinds: HostileFrame[]): NodeJS.Timeout {
  const startedMs = performance.now();
  const sentBy = clients.map(() => 0);
  return setInterval(() => {
    clients.forEach((client, index) => {
      if (client.closedWithCode !== undefined) return;
      const intervalMs = 1000 / client.limits.rateFramesPerSecond;
      const due = Math.floor((performance.now() - startedMs) / intervalMs) + 1;
      for (; sentBy[index]! < due; sentBy[index]!++) {
        // A client cannot push faster than the server reads: past this backlog its writes would only
        // pile up in its own memory, and masking them would burn the cores the server shares here.
        if (client.ws.bufferedAmount > CLIENT_BACKLOG_BYTES_MAX) break;
        const frame = kinds[(sentBy[index]! + index * 7) % kinds.length]!;
        client.ws.send(frame.text);
        framesSent++;
        bytesSent += frame.text.length;
      }
    });
  }, 5);
}

async function connect(wsUrl: string, token: string): Promise<HostileClient> {
  const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const client: HostileClient = { ws, limits: undefined as unknown as Limits, closedWithCode: undefined };
  ws.on('close', (code) => (client.closedWithCode = code));
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; code?: string; limits?: Limits };
      if (frame.type === 'welcome') {
        client.limits = frame.limits!;
        resolve();
        return;
      }
      const kind = frame.type === 'error' ? `error ${frame.code}` : frame.type;
      answers[kind] = (answers[kind] ?? 0) + 1;
      if (frame.type === 'error' && client.limits === undefined) reject(new Error(`hostile client refused: ${frame.code}`));
    });
    ws.send(JSON.stringify({ type: 'auth', v: 1, token }));
  });
  return client;
}

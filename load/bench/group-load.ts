import WebSocket from 'ws';
import { OpenModelMeter, type LoadResult } from './open-model.js';

export interface GroupLoadOptions {
  /** 'system': one group of `members` users, fanned out by the server; 'relay': the relay forwards to every listed member. */
  target: 'system' | 'relay';
  wsUrls: string[];
  httpUrl?: string;
  members: number;
  /** Group messages per second (each is delivered to members − 1 devices). */
  ratePerSecond: number;
  durationMs: number;
  warmupMs?: number;
  settleMs?: number;
}

interface Member {
  id: string;
  ws: WebSocket;
}

/**
 * Group fan-out under an open-model schedule: members take turns sending into one group; every
 * other member's delivery is timed from the scheduled send time. The relay baseline forwards
 * each frame to the listed members itself (the same fan-out without storage or ordering).
 */
export async function runGroupLoad(options: GroupLoadOptions): Promise<LoadResult> {
  const meter = new OpenModelMeter({ ...options, deliveriesPerSend: options.members - 1, settleMs: options.settleMs ?? 5_000 });
  const run = Date.now().toString(36);
  const ids = Array.from({ length: options.members }, (_, i) => `grp-${run}-m${i}`);
  const members: Member[] = [];
  for (const [i, id] of ids.entries())
    members.push(await connectMember(options, options.wsUrls[i % options.wsUrls.length]!, id, meter.onDelivered));
  const conversationId = options.target === 'system' ? await createGroup(members[0]!, ids.slice(1)) : 'relay-group';
  const result = await meter.run((n, scheduledAtMs) => {
    const sender = members[n % members.length]!;
    const payload = JSON.stringify({ t: scheduledAtMs });
    if (options.target === 'relay') {
      sender.ws.send(JSON.stringify({ toAll: ids.filter((id) => id !== sender.id), body: payload }));
    } else {
      sender.ws.send(
        JSON.stringify({
          type: 'send',
          conversationId,
          clientMessageId: `${sender.id}-${n}`,
          body: Buffer.from(payload).toString('base64'),
        }),
      );
    }
  });
  for (const m of members) m.ws.terminate();
  return result;
}

async function connectMember(options: GroupLoadOptions, url: string, id: string, onDelivered: (sentAtMs: number) => void): Promise<Member> {
  if (options.target === 'relay') {
    const ws = new WebSocket(`${url}?id=${id}`, { perMessageDeflate: false });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.on('message', (data) => onDelivered((JSON.parse(JSON.parse(data.toString()).body) as { t: number }).t));
    return { id, ws };
  }
  const response = await fetch(`${options.httpUrl}/dev/token`, { method: 'POST', body: JSON.stringify({ userId: id, deviceId: 'bench' }) });
  const { token } = (await response.json()) as { token: string };
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const welcomed = new Promise<void>((resolve) => {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as {
        type: string;
        event?: { kind: string; conversationId: string; seq: number; bodyBase64?: string };
      };
      if (frame.type === 'welcome') resolve();
      if (frame.type !== 'event' || !frame.event) return;
      if (frame.event.kind === 'message' && frame.event.bodyBase64) {
        onDelivered((JSON.parse(Buffer.from(frame.event.bodyBase64, 'base64').toString()) as { t: number }).t);
      }
      ws.send(JSON.stringify({ type: 'ack', conversationId: frame.event.conversationId, seq: frame.event.seq }));
    });
  });
  ws.send(JSON.stringify({ type: 'auth', v: 1, token }));
  await welcomed;
  return { id, ws };
}

async function createGroup(creator: Member, others: string[]): Promise<string> {
  const answer = new Promise<string>((resolve, reject) => {
    creator.ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; rid?: string; conversationId?: string; message?: string };
      if (frame.rid !== 'bench-group') return;
      if (frame.type === 'group_result') resolve(frame.conversationId!);
      else reject(new Error(`group_create failed: ${frame.message}`));
    });
  });
  creator.ws.send(JSON.stringify({ type: 'group_create', rid: 'bench-group', name: 'bench', members: others }));
  return answer;
}

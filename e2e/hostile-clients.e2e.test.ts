/**
 * A hostile, authenticated client sending the costliest frame of every type at its full rate
 * limit must not disturb anyone else: an unrelated pair talking at the same time gets every
 * message, in order, and the hostile client gets its documented error for each frame. How long
 * the pair waits is the benchmark's business (load/bench/hostile-clients.ts), not a test's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hostileFrames } from '../system/testing/hostile-frames.js';
import { b64, E2E, waitUntil } from './support.js';

const PAIR_MESSAGES = 60;
const PAIR_SEND_INTERVAL_MS = 10;
/** Every hostile frame at least this many times. */
const HOSTILE_ROUNDS = 2;

let e2e: E2E | undefined;
afterEach(async () => {
  await e2e?.close();
  e2e = undefined;
});

describe('fairness under hostile input', () => {
  it('an unrelated pair gets all its messages in order while a client floods the worst frames at its rate limit', async () => {
    // The byte budget would stretch the flood's ~20 MB over 20 s; it has its own test below.
    e2e = await E2E.start({ limits: { connectionInboundBytesPerSecond: 64 * 1024 * 1024, connectionInboundBurstBytes: 64 * 1024 * 1024 } });
    const { limits } = e2e.server.world.core.deps;
    const alice = await e2e.raw('alice', 'phone');
    const bob = await e2e.raw('bob', 'phone');
    const mallory = await e2e.raw('mallory', 'laptop', { record: false });
    const frames = hostileFrames(limits);
    const conversationId = 'dm:alice:bob';

    // At the rate limit, not beyond it: every frame is processed, none is dropped as RATE_LIMITED.
    const hostileIntervalMs = Math.ceil(1000 / limits.rateFramesPerSecond);
    const hostileTotal = frames.length * HOSTILE_ROUNDS;
    let hostileSent = 0;
    const flood = setInterval(() => {
      if (hostileSent >= hostileTotal) return;
      mallory.socket.send(frames[hostileSent % frames.length]!.text);
      hostileSent++;
    }, hostileIntervalMs);
    const errors = (code: string) => mallory.frames.filter((m) => m.type === 'error' && m.code === code);

    try {
      for (let i = 0; i < PAIR_MESSAGES; i++) {
        alice.sendFrame({ type: 'send', conversationId, clientMessageId: `m${i}`, body: b64(`hello ${i}`) });
        await new Promise((resolve) => setTimeout(resolve, PAIR_SEND_INTERVAL_MS));
      }
      const hostileSentDuringPair = hostileSent;
      const delivered = () => bob.frames.flatMap((f) => (f.type === 'event' && f.event.kind === 'message' ? [f.event] : []));
      await waitUntil(() => delivered().length >= PAIR_MESSAGES, `bob's ${PAIR_MESSAGES} messages`, 20_000);
      await waitUntil(() => hostileSent >= hostileTotal, 'the whole flood to be sent', 20_000);
      // The flood overlapped the pair's traffic, not just followed it.
      expect(hostileSentDuringPair).toBeGreaterThan(0);

      expect(delivered().map((e) => e.clientMessageId)).toEqual(Array.from({ length: PAIR_MESSAGES }, (_, i) => `m${i}`));
      expect(delivered().map((e) => e.seq)).toEqual(Array.from({ length: PAIR_MESSAGES }, (_, i) => i + 1));
      expect(alice.frames.filter((f) => f.type === 'sent')).toHaveLength(PAIR_MESSAGES);

      // Every refused frame got its documented code; the connection was never closed for rate.
      // Frames with too many values are refused unparsed, so their errors carry no rid.
      const unparsed = frames.filter((f) => f.decodeError === 'FRAME_TOO_LARGE').length * HOSTILE_ROUNDS;
      const refused = frames.filter((f) => f.decodeError !== undefined && f.decodeError !== 'FRAME_TOO_LARGE');
      await waitUntil(
        () =>
          refused.every((f) => mallory.frames.some((m) => m.type === 'error' && m.rid === f.rid)) &&
          errors('FRAME_TOO_LARGE').length >= unparsed,
        'an answer to every refused hostile frame',
        20_000,
      );
      expect(errors('FRAME_TOO_LARGE')).toHaveLength(unparsed);
      for (const hostile of refused) {
        const answers = mallory.frames.filter((m) => m.type === 'error' && m.rid === hostile.rid);
        expect(
          answers.map((m) => m.type === 'error' && m.code),
          hostile.rid,
        ).toEqual(Array(answers.length).fill(hostile.decodeError));
      }
      expect(errors('RATE_LIMITED')).toEqual([]);
      expect(mallory.closeCode).toBeUndefined();
    } finally {
      clearInterval(flood);
    }
  }, 60_000);

  it('reads a connection past its inbound byte budget only as the budget refills, and still answers every frame it sent', async () => {
    const budgetBytes = 256 * 1024;
    e2e = await E2E.start({ limits: { connectionInboundBytesPerSecond: budgetBytes, connectionInboundBurstBytes: budgetBytes } });
    const { limits } = e2e.server.world.core.deps;
    const mallory = await e2e.raw('mallory', 'laptop', { record: false });
    // Sends whose bodies are over messageBytesMax: each ~100 KB frame is answered MESSAGE_TOO_LARGE.
    const body = Buffer.alloc(limits.messageBytesMax + 10_000, 1).toString('base64');
    const frames = 8;
    const startedAtMs = Date.now();
    for (let i = 0; i < frames; i++)
      mallory.socket.send(
        JSON.stringify({ type: 'send', rid: `big${i}`, conversationId: 'dm:alice:mallory', clientMessageId: `b${i}`, body }),
      );
    const answered = () => mallory.frames.filter((m) => m.type === 'error' && m.code === 'MESSAGE_TOO_LARGE').length;
    await waitUntil(() => answered() === frames, 'an answer to every oversized send', 20_000);
    // ~8 × 100 KB sent at once against a 256 KiB burst refilling at 256 KiB/s: at least ~1.7 s
    // pass before the last frame is read (a lower bound; a slow machine only adds to it).
    const totalBytes =
      frames * JSON.stringify({ type: 'send', rid: 'big0', conversationId: 'dm:alice:mallory', clientMessageId: 'b0', body }).length;
    const minimumMs = ((totalBytes - budgetBytes - body.length) / budgetBytes) * 1000;
    expect(Date.now() - startedAtMs).toBeGreaterThanOrEqual(minimumMs);
    expect(mallory.closeCode).toBeUndefined();
  }, 30_000);
});

import { describe, expect, it } from 'vitest';
import { directConversationId } from '../../system/core/ids.js';
import { welcomedCore } from '../testing/core-harness.js';
import { eventFrame, message } from '../testing/harness.js';

/*
 * The client core is what both the SDK's ChatClient and the simulator's virtual devices run. These
 * tests pin the behaviours the two used to implement separately, and in which they had drifted
 * apart: each now exists once, here.
 */

const DM = directConversationId('alice', 'bob');
const GROUP = 'grp:0123456789abcdef';

const own = (seq: number, clientMessageId: string) => ({
  type: 'event',
  event: { kind: 'message', conversationId: DM, seq, senderUserId: 'alice', senderDeviceId: 'phone', clientMessageId, bodyBase64: 'eA==', serverTimeMs: 1 },
});

describe('client core: sync errors', () => {
  it('finishes a sync the server refused for good (NOT_A_MEMBER): what is held is handed over, acked, and not asked for again', async () => {
    const { host, push } = welcomedCore({ catchUpOnConnect: false }, {}, { cursors: { [DM]: 1 } });
    push(eventFrame(message(DM, 3)));
    const sync = host.framesOf('sync')[0]!;
    expect(sync).toMatchObject({ conversationId: DM, afterSeq: 1 });
    push({ type: 'error', rid: sync.rid, code: 'NOT_A_MEMBER', message: 'not a member', retryable: false });
    expect(host.deliveries.map((e) => e.seq)).toEqual([3]);
    expect(host.framesOf('ack').at(-1)).toMatchObject({ conversationId: DM, seq: 3 });
    await host.clock.advance(60_000);
    expect(host.framesOf('sync')).toHaveLength(1);
  });

  it('retries a sync that failed retryably, after the server’s hint', async () => {
    const { host, push } = welcomedCore({ catchUpOnConnect: false }, {}, { cursors: { [DM]: 1 } });
    push(eventFrame(message(DM, 3)));
    push({ type: 'error', rid: host.framesOf('sync')[0]!.rid, code: 'STORAGE_UNAVAILABLE', message: 'down', retryable: true, retryAfterMs: 700 });
    expect(host.deliveries).toEqual([]);
    await host.clock.advance(699);
    expect(host.framesOf('sync')).toHaveLength(1);
    await host.clock.advance(1);
    expect(host.framesOf('sync').map((f) => f.atMs)).toEqual([0, 700]);
  });
});

describe('client core: receipts', () => {
  const receipt = (upToSeq: number, state: 'delivered' | 'read' = 'delivered') => ({ type: 'receipt', conversationId: GROUP, state, upToSeq, userId: 'u6', deviceId: 'd1' });
  const recorded = (host: ReturnType<typeof welcomedCore>['host']) => host.recorded('receipt').map((e) => `${(e as { state: string }).state} ${(e as { upToSeq: number }).upToSeq}`);

  it('drops a stale watermark per (conversation, device, state), also after being saved and restored', () => {
    const first = welcomedCore();
    for (const frame of [receipt(134), receipt(175), receipt(171), receipt(3, 'read'), receipt(2, 'read'), receipt(175)]) first.push(frame);
    expect(recorded(first.host)).toEqual(['delivered 134', 'delivered 175', 'read 3']);
    const again = welcomedCore({}, {}, first.core.save());
    for (const frame of [receipt(172), receipt(181), receipt(3, 'read'), receipt(9, 'read')]) again.push(frame);
    expect(recorded(again.host)).toEqual(['delivered 181', 'read 9']);
  });

  it('keeps the two states apart for seqs past 2^26 as well', () => {
    const { host, push } = welcomedCore();
    const big = 2 ** 26 + 5;
    for (const frame of [receipt(big), receipt(3, 'read'), receipt(big - 1), receipt(big + 1, 'read'), receipt(big, 'read'), receipt(big + 2)]) push(frame);
    expect(recorded(host)).toEqual([`delivered ${big}`, 'read 3', `read ${big + 1}`, `delivered ${big + 2}`]);
  });
});

describe('client core: heartbeat', () => {
  it('beats at the interval the welcome names', async () => {
    const { host } = welcomedCore({}, { heartbeatIntervalMs: 7_000 });
    await host.clock.advance(6_999);
    expect(host.framesOf('heartbeat')).toEqual([]);
    await host.clock.advance(1);
    expect(host.framesOf('heartbeat').map((f) => f.atMs)).toEqual([7_000]);
  });

  it('drops a connection that stayed silent for its idle timeout and reconnects', async () => {
    const { host } = welcomedCore({ idleTimeoutMs: 20_000 }, { heartbeatIntervalMs: 10_000 });
    await host.clock.advance(19_999);
    expect(host.reports).toEqual(['connected']);
    await host.clock.advance(10_001);
    expect(host.reports).toEqual(['connected', 'disconnected true']);
    expect(host.closes.map((c) => c.atMs)).toEqual([20_000]);
  });
});

describe('client core: goaway', () => {
  const goaway = { type: 'goaway', reason: 'draining', reconnectAfterMs: 5_000 };

  it('keeps the connection until reconnectAfterMs, then moves', async () => {
    const { host, push } = welcomedCore();
    push(goaway);
    await host.clock.advance(4_999);
    expect(host.closes).toEqual([]);
    await host.clock.advance(1);
    expect(host.closes.map((c) => c.atMs)).toEqual([5_000]);
    expect(host.opened.map((o) => o.atMs)).toEqual([0, 5_000]);
  });

  it('waits for the hint even when the server closes first', async () => {
    const { host, core, push } = welcomedCore();
    push(goaway);
    await host.clock.advance(1_000);
    core.connectionClosed(core.connectionId, 1001, 'going away');
    await host.clock.advance(3_999);
    expect(host.opened).toHaveLength(1);
    await host.clock.advance(1);
    expect(host.opened.map((o) => o.atMs)).toEqual([0, 5_000]);
  });
});

describe('client core: sends', () => {
  it('re-sends a send refused for now after a jittered backoff above the hint, with the same clientMessageId and rid', async () => {
    const delays: number[] = [];
    for (const draw of [0, 0.99]) {
      const { host, core, push } = welcomedCore();
      host.random = { nextFloat: () => draw, hex: () => '00' };
      core.submit(core.newSend(DM, 'eA==', { clientMessageId: 'm1' }));
      const first = host.framesOf('send')[0]!;
      push({ type: 'error', rid: first.rid, code: 'OVERLOADED', message: 'busy', retryable: true, retryAfterMs: 100 });
      const delay = Number(host.reports.at(-1)!.split(' in ')[1]);
      delays.push(delay);
      await host.clock.advance(delay - 1);
      expect(host.framesOf('send')).toHaveLength(1);
      await host.clock.advance(1);
      expect(host.framesOf('send')[1]).toMatchObject({ clientMessageId: 'm1', rid: first.rid, atMs: delay });
    }
    // Equal jitter over the first backoff step (reconnectMinDelayMs 250: 125..250 ms), never below the hint.
    expect(delays).toEqual([125, 249]);
  });

  it('refuses a send whose frame exceeds the welcome’s frameBytesMax instead of re-sending it forever', () => {
    const { host, core } = welcomedCore({}, { limits: { frameBytesMax: 300 } });
    core.submit(core.newSend(DM, 'A'.repeat(400), { clientMessageId: 'big' }));
    expect(host.framesOf('send')).toEqual([]);
    expect(host.failedSends.map((f) => f.error.code)).toEqual(['FRAME_TOO_LARGE']);
    expect(core.pendingSendCount).toBe(0);
    core.submit(core.newSend(DM, 'A'.repeat(40), { clientMessageId: 'small' }));
    expect(host.framesOf('send').map((f) => f.clientMessageId)).toEqual(['small']);
  });

  it('saves a send whose seq came before the events ahead of it until its ack is recorded (swarm-small seeds 680 and 424)', () => {
    const { host, core, push } = welcomedCore({ catchUpOnConnect: false }, {}, { cursors: { [DM]: 0 } });
    core.submit(core.newSend(DM, 'eA==', { clientMessageId: 'm2' }));
    push({ type: 'queued', rid: host.framesOf('send')[0]!.rid, conversationId: DM, clientMessageId: 'm2', serverTimeMs: 1 });
    push(own(1, 'before'));
    // The write-ahead log's replay numbers m2 at 3 while seq 2 has not arrived: its ack waits for seq 2.
    push(own(3, 'm2'));
    expect(host.recorded('ack')).toEqual([]);
    expect(core.pendingSendCount).toBe(0);
    expect(core.save().outbox.map((send) => send.clientMessageId)).toEqual(['m2']);
    push(own(2, 'between'));
    expect(host.recorded('ack').map((e) => (e as { seq: number }).seq)).toEqual([3]);
    expect(core.save().outbox).toEqual([]);
  });
});

describe('client core: suspend and resume', () => {
  it('suspends without failing sends, and a core restored from what it saved re-sends them with the same id', () => {
    const first = welcomedCore();
    first.core.submit(first.core.newSend(DM, 'eA==', { clientMessageId: 'kept' }));
    first.core.suspend();
    expect(first.host.reports).toEqual(['connected', 'disconnected false']);
    expect(first.host.failedSends).toEqual([]);
    expect(first.host.clock.pendingTimers).toBe(0);
    const again = welcomedCore({}, {}, first.core.save());
    expect(again.host.framesOf('send').map((f) => [f.clientMessageId, f.rid])).toEqual([['kept', first.host.framesOf('send')[0]!.rid]]);
  });
});

import { describe, expect, it } from 'vitest';
import { directConversationId } from '../../system/core/ids.js';
import { CloseCodes } from '../../system/protocol/version.js';
import { welcomedCore } from '../testing/core-harness.js';
import { eventFrame, membership, message, welcomeFrame } from '../testing/harness.js';
import { closedError } from './client-core.js';

/*
 * The client core is what both the SDK's ChatClient and the simulator's virtual devices run. These
 * tests pin the behaviours the two used to implement separately, and in which they had drifted
 * apart: each now exists once, here.
 */

const DM = directConversationId('alice', 'bob');
const GROUP = 'grp:0123456789abcdef';

const own = (seq: number, clientMessageId: string) => ({
  type: 'event',
  event: {
    kind: 'message',
    conversationId: DM,
    seq,
    senderUserId: 'alice',
    senderDeviceId: 'phone',
    clientMessageId,
    bodyBase64: 'eA==',
    serverTimeMs: 1,
  },
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
    push({
      type: 'error',
      rid: host.framesOf('sync')[0]!.rid,
      code: 'STORAGE_UNAVAILABLE',
      message: 'down',
      retryable: true,
      retryAfterMs: 700,
    });
    expect(host.deliveries).toEqual([]);
    await host.clock.advance(699);
    expect(host.framesOf('sync')).toHaveLength(1);
    await host.clock.advance(1);
    expect(host.framesOf('sync').map((f) => f.atMs)).toEqual([0, 700]);
  });
});

describe('client core: a sync cut short by close, suspend or a lost connection', () => {
  // Found by the load driver (npm start, membership changes and churn): close() failed the first
  // sync of a group the device had just been added to with CLOSED, the core took that for a
  // refusal and handed the app what it held, and the device's next client (started from cursors
  // saved before the close) delivered the same events again.

  /** A core that was just added to GROUP: its first events are held until the link-point sync answers. */
  const addedToGroup = () => {
    const setup = welcomedCore();
    setup.push(eventFrame(membership(GROUP, 5, 'added', ['alice'])));
    setup.push(eventFrame(message(GROUP, 6)));
    expect(setup.host.framesOf('sync')).toMatchObject([{ conversationId: GROUP, afterSeq: 0, fromLink: true }]);
    return setup;
  };
  const delivered = (host: ReturnType<typeof welcomedCore>['host']) => host.deliveries.map((e) => `${e.conversationId} ${e.seq}`);

  it('close: the held events are not handed over, and the saved cursors leave them out', () => {
    const { host, core } = addedToGroup();
    core.close(closedError(), false);
    expect(host.deliveries).toEqual([]);
    expect(host.recorded('deliver')).toEqual([]);
    expect(core.cursor(GROUP)).toBeUndefined();
    expect(core.save().cursors).toEqual({});
    // The device's next client, from what this one saved, delivers them once.
    const next = welcomedCore({}, {}, core.save());
    next.push(eventFrame(membership(GROUP, 5, 'added', ['alice'])));
    next.push(eventFrame(message(GROUP, 6)));
    next.push({
      type: 'sync_result',
      rid: next.host.framesOf('sync').at(-1)!.rid,
      conversationId: GROUP,
      events: [membership(GROUP, 5, 'added', ['alice'])],
      hasMore: false,
      lastSeq: 6,
    });
    expect(delivered(next.host)).toEqual([`${GROUP} 5`, `${GROUP} 6`]);
  });

  it('close: a gap sync cut short skips nothing, the cursor stays below the gap', () => {
    const { host, core, push } = welcomedCore({ catchUpOnConnect: false }, {}, { cursors: { [DM]: 1 } });
    push(eventFrame(message(DM, 3)));
    expect(host.framesOf('sync')).toMatchObject([{ conversationId: DM, afterSeq: 1 }]);
    core.close(closedError(), false);
    expect(host.deliveries).toEqual([]);
    expect(core.save().cursors).toEqual({ [DM]: 1 });
  });

  it('a fatal close (the device was replaced) hands nothing held over either', () => {
    const { host, core } = addedToGroup();
    core.connectionClosed(core.connectionId, CloseCodes.REPLACED, 'replaced');
    expect(core.state).toBe('closed');
    expect(host.deliveries).toEqual([]);
    expect(core.save().cursors).toEqual({});
  });

  it('suspend: nothing is handed over; the next connection asks the sync again and the held events come once, in order', async () => {
    const { host, core } = addedToGroup();
    core.suspend();
    expect(host.deliveries).toEqual([]);
    expect(core.save().cursors).toEqual({});
    core.connect();
    core.connectionOpened(core.connectionId, 'token');
    core.receiveFrame(core.connectionId, welcomeFrame(host.clock) as never);
    const syncs = host.framesOf('sync');
    expect(syncs).toMatchObject([
      { conversationId: GROUP, fromLink: true },
      { conversationId: GROUP, afterSeq: 0, fromLink: true },
    ]);
    core.receiveFrame(core.connectionId, {
      type: 'sync_result',
      rid: syncs[1]!.rid,
      conversationId: GROUP,
      events: [membership(GROUP, 5, 'added', ['alice'])],
      hasMore: false,
      lastSeq: 6,
    } as never);
    expect(delivered(host)).toEqual([`${GROUP} 5`, `${GROUP} 6`]);
  });

  it('suspended by the app from a delivery halfway through a sync page: nothing more is handed over, and the next connection picks up at the cursor', async () => {
    const { host, core, push } = welcomedCore({ catchUpOnConnect: false }, {}, { cursors: { [DM]: 1 } });
    host.delivered = (event) => {
      host.deliveries.push(event);
      if (event.seq === 3) core.suspend();
    };
    push(eventFrame(message(DM, 5)));
    const sync = host.framesOf('sync')[0]!;
    expect(sync).toMatchObject({ conversationId: DM, afterSeq: 1 });
    push({
      type: 'sync_result',
      rid: sync.rid,
      conversationId: DM,
      events: [message(DM, 2), message(DM, 3), message(DM, 4)],
      hasMore: false,
      lastSeq: 5,
    });
    expect(delivered(host)).toEqual([`${DM} 2`, `${DM} 3`]);
    expect(core.save().cursors).toEqual({ [DM]: 3 });
    core.connect();
    core.connectionOpened(core.connectionId, 'token');
    core.receiveFrame(core.connectionId, welcomeFrame(host.clock) as never);
    const again = host.framesOf('sync')[1]!;
    expect(again).toMatchObject({ conversationId: DM, afterSeq: 3 });
    core.receiveFrame(core.connectionId, {
      type: 'sync_result',
      rid: again.rid,
      conversationId: DM,
      events: [message(DM, 4), message(DM, 5)],
      hasMore: false,
      lastSeq: 5,
    } as never);
    expect(delivered(host)).toEqual([2, 3, 4, 5].map((seq) => `${DM} ${seq}`));
  });

  it('a lost connection: the sync is asked again after the reconnect, and the held events come once, in order', async () => {
    const { host, core } = addedToGroup();
    const firstSync = host.framesOf('sync')[0]!;
    core.connectionClosed(core.connectionId, 1006, 'network');
    expect(host.deliveries).toEqual([]);
    while (host.opened.length < 2) await host.clock.advance(50);
    core.connectionOpened(core.connectionId, 'token');
    const push = (frame: unknown) => core.receiveFrame(core.connectionId, frame as never);
    push(welcomeFrame(host.clock));
    const syncs = host.framesOf('sync');
    expect(syncs).toHaveLength(2);
    expect(syncs[1]).toMatchObject({ conversationId: GROUP, afterSeq: 0, fromLink: true });
    // The offline inbox replays what the lost connection pushed, the old answer comes too late.
    push({ type: 'event', queued: true, event: membership(GROUP, 5, 'added', ['alice']) });
    push({ type: 'event', queued: true, event: message(GROUP, 6) });
    push({ type: 'sync_result', rid: firstSync.rid, conversationId: GROUP, events: [], hasMore: false, lastSeq: 6 });
    expect(host.deliveries).toEqual([]);
    push({
      type: 'sync_result',
      rid: syncs[1]!.rid,
      conversationId: GROUP,
      events: [membership(GROUP, 5, 'added', ['alice']), message(GROUP, 6)],
      hasMore: false,
      lastSeq: 6,
    });
    push(eventFrame(message(GROUP, 7)));
    expect(delivered(host)).toEqual([`${GROUP} 5`, `${GROUP} 6`, `${GROUP} 7`]);
  });
});

describe('client core: receipts', () => {
  const receipt = (upToSeq: number, state: 'delivered' | 'read' = 'delivered') => ({
    type: 'receipt',
    conversationId: GROUP,
    state,
    upToSeq,
    userId: 'u6',
    deviceId: 'd1',
  });
  const recorded = (host: ReturnType<typeof welcomedCore>['host']) =>
    host.recorded('receipt').map((e) => `${(e as { state: string }).state} ${(e as { upToSeq: number }).upToSeq}`);

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
    for (const frame of [
      receipt(big),
      receipt(3, 'read'),
      receipt(big - 1),
      receipt(big + 1, 'read'),
      receipt(big, 'read'),
      receipt(big + 2),
    ])
      push(frame);
    expect(recorded(host)).toEqual([`delivered ${big}`, 'read 3', `read ${big + 1}`, `delivered ${big + 2}`]);
  });
});

describe('client core: heartbeat', () => {
  it('beats on the welcome (which shows the server it was read) and then at the interval the welcome names', async () => {
    const { host } = welcomedCore({}, { heartbeatIntervalMs: 7_000 });
    const start = host.clock.nowMs();
    expect(host.framesOf('heartbeat').map((f) => f.atMs - start)).toEqual([0]);
    await host.clock.advance(6_999);
    expect(host.framesOf('heartbeat')).toHaveLength(1);
    await host.clock.advance(1);
    expect(host.framesOf('heartbeat').map((f) => f.atMs - start)).toEqual([0, 7_000]);
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

describe('client core: when acks go out', () => {
  // The simulator's connections hand a device many frames at one virtual instant; an ack per
  // frame there doubled the acks (and the receipts and route look-ups behind them) of a
  // simulated hour against the devices the simulator had before the client core.
  const twoFramesAtOneInstant = (acksPerInstant: boolean) => {
    const { host, push } = welcomedCore({ acksPerInstant }, {}, { cursors: { [DM]: 1 } });
    push(eventFrame(message(DM, 2)));
    push(eventFrame(message(DM, 3)));
    return host;
  };

  it('at the end of each frame by default (the SDK)', () => {
    const host = twoFramesAtOneInstant(false);
    expect(host.framesOf('ack').map((f) => f.seq)).toEqual([2, 3]);
  });

  it('once per clock instant with acksPerInstant (the simulator): the highest seq of the conversation', async () => {
    const host = twoFramesAtOneInstant(true);
    expect(host.framesOf('ack')).toEqual([]);
    await host.clock.advance(0);
    expect(host.framesOf('ack').map((f) => f.seq)).toEqual([3]);
  });
});

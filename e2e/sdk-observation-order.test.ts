/**
 * Regression tests for what the interleaving properties found in the SDK, pinned down on a
 * scripted connection (sdk/testing): a device's recorded observations of a conversation (its
 * deliveries and its own acks) always rise, even when a `sent` overtakes or trails events; and a
 * duplicate replayed from the inbox is acknowledged again so it leaves the inbox.
 */
import { describe, expect, it } from 'vitest';
import { checkHistory, formatViolation } from '../checker/index.js';
import { eventFrame, message, connected } from '../sdk/testing/harness.js';
import { directConversationId } from '../system/core/ids.js';

const DM = directConversationId('alice', 'bob');

function sentFrame(clientMessageId: string, seq: number, rid: string) {
  return { type: 'sent' as const, rid, conversationId: DM, clientMessageId, seq, serverTimeMs: 2_000_000, duplicate: false };
}

/** (type, seq) of the device's recorded observations of DM, in history order. */
function observations(events: ReturnType<typeof connectedHistory>) {
  return events.flatMap((e) => ((e.type === 'deliver' || e.type === 'ack') && e.conversationId === DM ? [`${e.type} ${e.seq}`] : []));
}
function connectedHistory(t: Awaited<ReturnType<typeof connected>>) {
  return t.history.events;
}

describe('SDK: own sends and observation order', () => {
  it('a new conversation does not start at an event while our own send to it is unacknowledged', async () => {
    const t = await connected();
    const sending = t.client.send(DM, 'first!', { clientMessageId: 'mine' });
    const frame = t.conn.lastOfType('send')!;
    // Bob's reply (seq 2) overtakes the `sent` of our message (seq 1).
    t.conn.push(eventFrame(message(DM, 2)));
    expect(t.seqs()).toEqual([]);
    t.conn.push(sentFrame('mine', 1, frame.rid));
    await expect(sending).resolves.toMatchObject({ seq: 1 });
    expect(t.seqs()).toEqual([2]);
    expect(t.client.getCursor(DM)).toBe(2);
    expect(observations(connectedHistory(t))).toEqual(['ack 1', 'deliver 2']);
    expect(checkHistory(t.history.events).violations.map(formatViolation)).toEqual([]);
    t.client.close();
  });

  it('starts once the pending send is rejected', async () => {
    const t = await connected();
    const sending = t.client.send(DM, 'nope', { clientMessageId: 'mine' }).catch((e: unknown) => e);
    const frame = t.conn.lastOfType('send')!;
    t.conn.push(eventFrame(message(DM, 3)));
    expect(t.seqs()).toEqual([]);
    t.conn.push({ type: 'error', rid: frame.rid, code: 'NOT_A_MEMBER', message: 'no', retryable: false, inReplyTo: 'send' });
    expect(await sending).toMatchObject({ code: 'NOT_A_MEMBER' });
    // Nothing of ours is pending now: seq 3 waits only for the sync from this device's link point.
    const sync = t.conn.lastOfType('sync')!;
    expect(sync).toMatchObject({ conversationId: DM, afterSeq: 0, fromLink: true });
    t.conn.push({ type: 'sync_result', rid: sync.rid, conversationId: DM, events: [message(DM, 3)], hasMore: false, lastSeq: 3 });
    expect(t.seqs()).toEqual([3]);
    t.client.close();
  });

  it('records our ack when our message takes its place: after the events before it that arrive late', async () => {
    const t = await connected();
    t.conn.push(eventFrame(message(DM, 1)));
    t.conn.push(eventFrame(message(DM, 2)));
    const sending = t.client.send(DM, 'hi', { clientMessageId: 'mine' });
    const frame = t.conn.lastOfType('send')!;
    // Our message got seq 4; seq 3 (bob's) is still on its way.
    t.conn.push(sentFrame('mine', 4, frame.rid));
    await expect(sending).resolves.toMatchObject({ seq: 4 }); // the app learns the seq at once
    expect(observations(connectedHistory(t))).toEqual(['deliver 1', 'deliver 2']);
    t.conn.push(eventFrame(message(DM, 3)));
    expect(observations(connectedHistory(t))).toEqual(['deliver 1', 'deliver 2', 'deliver 3', 'ack 4']);
    expect(t.client.getCursor(DM)).toBe(4);
    expect(checkHistory(t.history.events).violations.map(formatViolation)).toEqual([]);
    t.client.close();
  });

  it('a cursorless own send acked before older events: those events are observed first', async () => {
    const t = await connected();
    const sending = t.client.send(DM, 'hi', { clientMessageId: 'mine' });
    const frame = t.conn.lastOfType('send')!;
    t.conn.push(sentFrame('mine', 6, frame.rid));
    await sending;
    // The inbox drain brings 4 and 5 afterwards; the sync from the link point (4) settles the start.
    t.conn.push({ ...eventFrame(message(DM, 4)), queued: true });
    t.conn.push({ ...eventFrame(message(DM, 5)), queued: true });
    expect(observations(connectedHistory(t))).toEqual([]);
    const sync = t.conn.lastOfType('sync')!;
    expect(sync).toMatchObject({ conversationId: DM, afterSeq: 0, fromLink: true });
    const own6 = { ...message(DM, 6), senderUserId: 'alice', senderDeviceId: 'phone', clientMessageId: 'mine' };
    t.conn.push({
      type: 'sync_result',
      rid: sync.rid,
      conversationId: DM,
      events: [message(DM, 4), message(DM, 5), own6],
      hasMore: false,
      lastSeq: 6,
    });
    expect(observations(connectedHistory(t))).toEqual(['deliver 4', 'deliver 5', 'ack 6']);
    expect(checkHistory(t.history.events).violations.map(formatViolation)).toEqual([]);
    t.client.close();
  });
});

describe('SDK: inbox replays', () => {
  it('acknowledges a duplicate replayed from the inbox (queued) again, so it leaves the inbox', async () => {
    const t = await connected({ cursors: { [DM]: 5 } });
    const acksBefore = t.conn.framesOfType('ack').length;
    t.conn.push({ ...eventFrame(message(DM, 5)), queued: true });
    expect(t.seqs()).toEqual([]);
    expect(t.conn.framesOfType('ack').slice(acksBefore)).toEqual([{ type: 'ack', conversationId: DM, seq: 5 }]);
    t.client.close();
  });

  it('does not ack duplicates that came by sync (nothing of them is in the inbox to clear)', async () => {
    const t = await connected({ cursors: { [DM]: 5 } });
    const sync = t.conn.lastOfType('sync')!;
    const acksBefore = t.conn.framesOfType('ack').length;
    t.conn.push({ type: 'sync_result', rid: sync.rid, conversationId: DM, events: [message(DM, 5)], hasMore: false, lastSeq: 5 });
    expect(t.conn.framesOfType('ack').slice(acksBefore)).toEqual([]);
    t.client.close();
  });
});

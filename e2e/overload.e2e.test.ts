/**
 * Admission control end to end on the embedded server over real sockets: while the message store
 * is slow enough that every send queues, the gateway answers new sends with OVERLOADED (retryable,
 * with a hint, nothing stored), the SDK re-sends them after the hint, and once the store is quick
 * again every message arrives once, in order, and the checker finds no violation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { checkHistory } from '../checker/index.js';
import { directConversationId } from '../sdk/index.js';
import type { ConversationEventDraft } from '../system/core/events.js';
import type { AppendResult, MessageStore } from '../system/ports/message-store.js';
import { E2E, waitUntil } from './support.js';

/** Test-only: a message store whose appends take `delayMs` longer while it is set. */
class SlowAppends implements MessageStore {
  delayMs = 0;
  constructor(private readonly inner: MessageStore) {}
  async append(draft: ConversationEventDraft): Promise<AppendResult> {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return this.inner.append(draft);
  }
  readAfter(...args: Parameters<MessageStore['readAfter']>) {
    return this.inner.readAfter(...args);
  }
  readBefore(...args: Parameters<MessageStore['readBefore']>) {
    return this.inner.readBefore(...args);
  }
  lastSeq(...args: Parameters<MessageStore['lastSeq']>) {
    return this.inner.lastSeq(...args);
  }
}

describe('overload: a gateway past its capacity refuses sends it cannot answer in time', () => {
  let e2e: E2E | undefined;
  afterEach(async () => {
    await e2e?.close();
    e2e = undefined;
  });

  async function start(limits: Record<string, number>) {
    let store: SlowAppends | undefined;
    e2e = await E2E.start({
      messages: (memory: MessageStore) => (store = new SlowAppends(memory)),
      limits: { sendQueueDelayMsMax: 50, sendAdmissionWindowMs: 100, sendAdmissionAnswersMin: 3, overloadRetryAfterMs: 100, ...limits },
    });
    return { e2e, store: store! };
  }

  it('refuses with OVERLOADED while sends queue, and every refused send gets through once after the overload', async () => {
    const { e2e, store } = await start({});
    const alice = await e2e.connect('alice', 'phone');
    const friends = ['bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'ken'];
    const peers = await Promise.all(friends.map((friend) => e2e.connect(friend, 'phone')));
    const refused: string[] = [];
    alice.client.on('retrying', (info) => {
      if (info.code === 'OVERLOADED') refused.push(info.clientMessageId);
    });

    // Every append waits longer than sendQueueDelayMsMax, ten conversations at once: a standing queue.
    store.delayMs = 120;
    const sends: Array<Promise<unknown>> = [];
    for (let round = 0; round < 8; round++) {
      for (const friend of friends)
        sends.push(
          alice.client.send(directConversationId('alice', friend), `${friend}-${round}`, { clientMessageId: `${friend}-${round}` }),
        );
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    await waitUntil(() => refused.length > 0, 'an OVERLOADED refusal', 5_000);
    expect(e2e.server.world.core.chat.admission.sendsInFlight).toBeLessThan(sends.length);
    store.delayMs = 0;
    await Promise.all(sends);
    for (const [i, friend] of friends.entries()) {
      const dm = directConversationId('alice', friend);
      await waitUntil(() => peers[i]!.messageIds(dm).length === 8, `8 messages at ${friend}`, 10_000);
      // A refused send is a new arrival when it comes back, so sends pipelined behind it may be
      // numbered first (docs/protocol.md, "Overload"): each arrives once, in the log's order.
      expect([...peers[i]!.messageIds(dm)].sort()).toEqual(Array.from({ length: 8 }, (_, round) => `${friend}-${round}`).sort());
      expect(peers[i]!.seqs(dm)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    }

    e2e.quiesce(e2e.clients);
    expect(checkHistory([...e2e.history.events]).violations).toEqual([]);
  });

  it('answers a refused send with its rid, retryable: true and a retryAfterMs hint, and stores nothing', async () => {
    const { e2e, store } = await start({ sendsInFlightMax: 1 });
    const raw = await e2e.raw('carol', 'phone');
    await e2e.raw('dave', 'phone');
    const dm = directConversationId('carol', 'dave');
    store.delayMs = 300;
    const body = Buffer.from('hi').toString('base64');
    const first = raw.request({ type: 'send', rid: 'r1', conversationId: dm, clientMessageId: 'c1', body });
    const second = await raw.request({ type: 'send', rid: 'r2', conversationId: dm, clientMessageId: 'c2', body });
    expect(second).toMatchObject({ type: 'error', rid: expect.any(String), code: 'OVERLOADED', retryable: true, inReplyTo: 'send' });
    expect((second as { retryAfterMs: number }).retryAfterMs).toBeGreaterThanOrEqual(50);
    expect((second as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(150);
    expect(await first).toMatchObject({ type: 'sent', clientMessageId: 'c1', seq: 1 });
    store.delayMs = 0;
    expect(await e2e.server.world.stores.messages.lastSeq(dm)).toBe(1); // c2 was never stored
    expect(await raw.request({ type: 'send', rid: 'r3', conversationId: dm, clientMessageId: 'c2', body })).toMatchObject({
      type: 'sent',
      seq: 2,
    });
  });
});

import { describe, expect, it } from 'vitest';
import { order } from './index.js';
import { HistoryBuilder } from './test-support/builder.js';
import { drop, insertBefore, isDeliver, swap } from './test-support/edit.js';
import { G, alice, alice2, baseBuilder, bob, carol, cleanGroupHistory, everyone } from './test-support/scenario.js';

describe('order', () => {
  it('passes a clean history', () => {
    expect(order(cleanGroupHistory())).toEqual([]);
  });

  it('catches two deliveries swapped on one device', () => {
    const h = swap(cleanGroupHistory(), isDeliver('carol', 'phone', 2), isDeliver('carol', 'phone', 3));
    const v = order(h);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ invariant: 'order', conversationId: G, userId: 'carol', deviceId: 'phone', seq: 2 });
    expect(v[0]!.witness.map((e) => (e.type === 'deliver' ? e.seq : -1))).toEqual([3, 2]);
  });

  it('catches an own ack that overtakes an older delivery', () => {
    // alice/phone is handed its own ack of seq 3 before bob's seq 2.
    const h = baseBuilder()
      .send(bob, G, 'b1')
      .ack(bob, G, 'b1', 2)
      .deliverMessage(alice2, G, 2, bob, 'b1')
      .deliverMessage(carol, G, 2, bob, 'b1')
      .message(alice, G, 'a1', 3, [alice2, bob, carol])
      .deliverMessage(alice, G, 2, bob, 'b1')
      .build();
    expect(order(h)).toMatchObject([{ invariant: 'order', userId: 'alice', deviceId: 'phone', seq: 2 }]);
  });

  it('catches a gap while the user was a member', () => {
    const h = drop(cleanGroupHistory(), isDeliver('bob', 'phone', 2));
    const v = order(h);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ invariant: 'order', conversationId: G, userId: 'bob', deviceId: 'phone', seq: 2 });
    expect(v[0]!.message).toMatch(/skipped seq 2/);
    // The witness shows seq 2 exists elsewhere.
    expect(v[0]!.witness.some((e) => e.type === 'ack' && e.seq === 2)).toBe(true);
  });

  it('allows the gap between a removal and a re-add, and a late-linked device starting mid-log', () => {
    const tablet = ['carol', 'tablet'] as const;
    const h = baseBuilder()
      .membership(G, 2, 'removed', ['carol'], everyone)
      .message(alice, G, 'a1', 3, [alice2, bob])
      .membership(G, 4, 'added', ['carol'], everyone)
      .device(tablet)
      .message(bob, G, 'b1', 5, [alice, alice2, carol, tablet])
      .build();
    expect(order(h)).toEqual([]);
  });

  it('uses the device’s own view when membership is unknown', () => {
    // No membership events at all: a gap after a message is still a gap.
    const h = new HistoryBuilder().deliverMessage(bob, G, 7, alice, 'x7').deliverMessage(bob, G, 9, alice, 'x9').build();
    expect(order(h)).toMatchObject([{ invariant: 'order', deviceId: 'phone', seq: 8 }]);
  });

  it('catches one seq being different events on two devices', () => {
    const h = cleanGroupHistory().map((e) =>
      isDeliver('carol', 'phone', 3)(e) && e.type === 'deliver' ? { ...e, clientMessageId: 'someone-else' } : e,
    );
    expect(order(h)).toMatchObject([{ invariant: 'order', conversationId: G, userId: 'carol', seq: 3 }]);
  });

  it("catches a sender's later message ordered before its earlier acked one", () => {
    const h = baseBuilder().message(alice, G, 'a1', 3, [alice2, bob, carol]).send(alice, G, 'a2').ack(alice, G, 'a2', 2).build();
    const v = order(h);
    expect(v.some((x) => x.clientMessageId === 'a2' && x.seq === 2 && /acked at seq 3/.test(x.message))).toBe(true);
  });

  it('tolerates re-acks of a retried send and an own message echoed back', () => {
    const h = baseBuilder()
      .send(alice, G, 'a1')
      .send(alice, G, 'a1', 2)
      .ack(alice, G, 'a1', 2)
      .deliverMessage(alice2, G, 2, alice, 'a1')
      .deliverMessage(bob, G, 2, alice, 'a1')
      .message(bob, G, 'b1', 3, [alice, alice2])
      .ack(alice, G, 'a1', 2)
      .deliverMessage(alice, G, 2, alice, 'a1', 'sync')
      .build();
    expect(order(h)).toEqual([]);
  });

  it('holds in 1:1 conversations', () => {
    const dm = 'dm:alice:bob';
    const h = new HistoryBuilder()
      .message(alice, dm, 'x1', 1, [bob])
      .message(alice, dm, 'x2', 2, [])
      .message(alice, dm, 'x3', 3, [bob])
      .build();
    expect(order(h)).toMatchObject([{ conversationId: dm, userId: 'bob', seq: 2 }]);
    expect(
      order(
        insertBefore(h, (e) => e.type === 'ack' && e.seq === 3, {
          type: 'deliver',
          atMs: 1,
          userId: 'bob',
          deviceId: 'phone',
          conversationId: dm,
          seq: 2,
          kind: 'message',
          senderUserId: 'alice',
          senderDeviceId: 'phone',
          clientMessageId: 'x2',
          via: 'sync',
        }),
      ),
    ).toEqual([]);
  });
});

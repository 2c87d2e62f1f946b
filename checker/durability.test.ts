import { describe, expect, it } from 'vitest';
import { checkHistory, durability, type HistoryEvent } from './index.js';
import { HistoryBuilder } from './test-support/builder.js';
import { drop, isDeliver } from './test-support/edit.js';
import { G, alice, alice2, baseBuilder, bob, carol, cleanGroup, cleanGroupHistory, everyone } from './test-support/scenario.js';

describe('durability', () => {
  it('passes a clean history', () => {
    expect(durability(cleanGroupHistory())).toEqual([]);
  });

  it('catches an acked message never delivered to a quiesced member device', () => {
    const h = drop(cleanGroupHistory(), isDeliver('bob', 'phone', 2));
    const v = durability(h);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({
      invariant: 'durability',
      conversationId: G,
      userId: 'bob',
      deviceId: 'phone',
      seq: 2,
      clientMessageId: 'a1',
    });
    const types = v[0]!.witness.map((e) => e.type);
    expect(types).toContain('send');
    expect(types).toContain('ack');
    expect(types).toContain('quiesce');
  });

  it("catches a message missing on the sender's other device", () => {
    const v = durability(drop(cleanGroupHistory(), isDeliver('alice', 'laptop', 5)));
    expect(v).toMatchObject([{ invariant: 'durability', userId: 'alice', deviceId: 'laptop', seq: 5 }]);
  });

  it('owes nothing without a quiesce event, but still counts as checked', () => {
    const h = drop(cleanGroupHistory(), isDeliver('bob', 'phone', 2)).filter((e) => e.type !== 'quiesce');
    expect(durability(h)).toEqual([]);
    const result = checkHistory(h);
    expect(result.checked).toContain('durability');
    expect(result.notes.join(' ')).toMatch(/quiesce/);
  });

  it('owes nothing to a removed member, a device linked after the ack, a device not quiesced, or an unacked send', () => {
    const tablet = ['alice', 'tablet'] as const;
    const h: HistoryEvent[] = [
      ...cleanGroup().events.filter((e) => e.type !== 'quiesce'),
      ...new HistoryBuilder()
        .advance(1000)
        .device(tablet)
        .message(bob, G, 'b2', 6, [alice, alice2, tablet])
        .send(bob, G, 'b3-never-acked')
        .quiesce([...everyone, tablet]).events,
    ];
    // carol (removed at 4) never got 5 or 6; the tablet never got 2..5; nobody got b3.
    expect(durability(h)).toEqual([]);

    // bob/laptop was linked but is not in the quiesce set: not owed anything.
    const h2 = baseBuilder().device(['bob', 'laptop']).message(alice, G, 'a1', 2, [alice2, bob, carol]).quiesce(everyone).build();
    expect(durability(h2)).toEqual([]);
  });

  it('covers 1:1 conversations', () => {
    const dm = 'dm:alice:bob';
    const b = new HistoryBuilder().device(alice).device(bob).message(alice, dm, 'x', 1, []).quiesce([alice, bob]);
    expect(durability(b.build())).toMatchObject([{ invariant: 'durability', conversationId: dm, userId: 'bob', seq: 1 }]);
  });
});

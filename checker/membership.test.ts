import { describe, expect, it } from 'vitest';
import { membership } from './index.js';
import { HistoryBuilder } from './test-support/builder.js';
import { G, alice, alice2, bob, carol, cleanGroup, cleanGroupHistory } from './test-support/scenario.js';

describe('membership', () => {
  it('passes a clean history', () => {
    expect(membership(cleanGroupHistory())).toEqual([]);
  });

  it('catches a removed member receiving a later message', () => {
    const h = cleanGroup().deliverMessage(carol, G, 5, alice, 'a2').build();
    const v = membership(h);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({
      invariant: 'membership',
      conversationId: G,
      userId: 'carol',
      deviceId: 'phone',
      seq: 5,
      clientMessageId: 'a2',
    });
    // The witness shows the removal and the delivery.
    expect(v[0]!.witness.map((e) => (e.type === 'deliver' ? `${e.kind}:${e.seq}` : e.type))).toEqual(['membership:4', 'message:5']);
  });

  it("catches a non-member's acked message", () => {
    const h = cleanGroup().message(carol, G, 'c-late', 6, [alice, alice2, bob]).build();
    const v = membership(h);
    // The ack, and each member device... no: deliveries to members are fine; only the post is wrong.
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({
      invariant: 'membership',
      conversationId: G,
      userId: 'carol',
      deviceId: 'phone',
      seq: 6,
      clientMessageId: 'c-late',
    });
    expect(v[0]!.witness.map((e) => e.type)).toEqual(['deliver', 'send', 'ack']);
  });

  it('catches someone never in the group, and outsiders of a 1:1', () => {
    const dave = ['dave', 'phone'] as const;
    const h = cleanGroup().deliverMessage(dave, G, 3, bob, 'b1').build();
    expect(membership(h)).toMatchObject([{ userId: 'dave', seq: 3 }]);
    const dm = new HistoryBuilder().message(alice, 'dm:alice:bob', 'x', 1, [bob, dave]).build();
    expect(membership(dm)).toMatchObject([{ conversationId: 'dm:alice:bob', userId: 'dave', seq: 1 }]);
  });

  it('does not flag when membership is unknown', () => {
    const h = new HistoryBuilder().message(alice, G, 'a1', 4, [bob]).build();
    expect(membership(h)).toEqual([]);
  });
});

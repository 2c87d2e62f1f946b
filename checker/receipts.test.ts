import { describe, expect, it } from 'vitest';
import { receipts } from './index.js';
import { insertBefore, isDeliver } from './test-support/edit.js';
import { G, alice, bob, carol, cleanGroup, cleanGroupHistory } from './test-support/scenario.js';

describe('receipts', () => {
  it('passes a clean history', () => {
    expect(receipts(cleanGroupHistory())).toEqual([]);
  });

  it('catches a watermark going backwards', () => {
    const h = cleanGroup().receipt(alice, G, 'delivered', 3, bob).build();
    const v = receipts(h);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ invariant: 'receipts', conversationId: G, userId: 'bob', deviceId: 'phone', seq: 3 });
    expect(v[0]!.witness.map((e) => (e.type === 'receipt' ? e.upToSeq : -1))).toEqual([5, 3]);
  });

  it('allows different states and different observers their own watermarks', () => {
    const h = cleanGroup().receipt(alice, G, 'read', 3, bob).receipt(carol, G, 'delivered', 2, bob).build();
    expect(receipts(h)).toEqual([]);
  });

  it('catches "delivered" before the device got the message', () => {
    // alice sees carol's receipt for seq 3 before carol was handed seq 3.
    const h = insertBefore(cleanGroupHistory(), isDeliver('carol', 'phone', 3), {
      type: 'receipt',
      atMs: 1,
      userId: 'alice',
      deviceId: 'phone',
      conversationId: G,
      state: 'delivered',
      upToSeq: 3,
      byUserId: 'carol',
      byDeviceId: 'phone',
    });
    // Give it the time of its position so only the grounding rule can object.
    const i = h.findIndex((e) => e.type === 'receipt' && e.byUserId === 'carol' && e.upToSeq === 3);
    h[i] = { ...h[i]!, atMs: h[i - 1]!.atMs };
    const v = receipts(h);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ invariant: 'receipts', conversationId: G, userId: 'carol', deviceId: 'phone', seq: 3 });
    expect(v[0]!.message).toMatch(/only got seq 3 at/);
  });

  it('catches a receipt for a seq the device never got', () => {
    const h = cleanGroup().receipt(bob, G, 'read', 7, alice).build();
    expect(receipts(h)).toMatchObject([{ invariant: 'receipts', userId: 'alice', seq: 7 }]);
  });

  it('grounds a removed member’s receipt on its exit, and ignores devices outside the history', () => {
    const h = cleanGroup()
      .receipt(alice, G, 'delivered', 5, carol) // carol left at 4: due up to 4, which she got
      .receipt(alice, G, 'delivered', 5, ['zed', 'phone'])
      .build();
    expect(receipts(h)).toEqual([]);
  });
});

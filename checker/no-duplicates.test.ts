import { describe, expect, it } from 'vitest';
import { checkHistory, noDuplicates } from './index.js';
import { duplicate, isDeliver } from './test-support/edit.js';
import { G, alice, alice2, baseBuilder, bob, carol, cleanGroupHistory } from './test-support/scenario.js';

describe('no-duplicates', () => {
  it('passes a clean history', () => {
    expect(noDuplicates(cleanGroupHistory())).toEqual([]);
  });

  it('catches a seq delivered twice to one device', () => {
    const h = duplicate(cleanGroupHistory(), isDeliver('carol', 'phone', 2));
    const v = noDuplicates(h);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({
      invariant: 'no-duplicates',
      conversationId: G,
      userId: 'carol',
      deviceId: 'phone',
      seq: 2,
      clientMessageId: 'a1',
    });
    expect(v[0]!.witness).toHaveLength(2);
    // A repeat is not also an ordering problem.
    expect(checkHistory(h).violations.map((x) => x.invariant)).toEqual(['no-duplicates']);
  });

  it('catches one clientMessageId appended at two seqs', () => {
    // alice's retry of a1 was appended again at seq 3 instead of being de-duplicated.
    const h = baseBuilder()
      .send(alice, G, 'a1')
      .ack(alice, G, 'a1', 2)
      .deliverMessage(bob, G, 2, alice, 'a1')
      .deliverMessage(carol, G, 2, alice, 'a1')
      .deliverMessage(alice2, G, 2, alice, 'a1')
      .send(alice, G, 'a1', 2)
      .ack(alice, G, 'a1', 3)
      .deliverMessage(bob, G, 3, alice, 'a1')
      .deliverMessage(carol, G, 3, alice, 'a1')
      .deliverMessage(alice2, G, 3, alice, 'a1')
      .build();
    const v = noDuplicates(h);
    // Reported once, not once per device that saw the extra copy.
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({
      invariant: 'no-duplicates',
      conversationId: G,
      userId: 'alice',
      deviceId: 'phone',
      seq: 3,
      clientMessageId: 'a1',
    });
  });

  it('does not count an idempotent re-ack as a duplicate', () => {
    const h = baseBuilder().send(alice, G, 'a1').ack(alice, G, 'a1', 2).send(alice, G, 'a1', 2).ack(alice, G, 'a1', 2).build();
    expect(noDuplicates(h)).toEqual([]);
  });
});

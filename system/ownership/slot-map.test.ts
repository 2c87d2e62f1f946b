/**
 * Rendezvous hashing of slots to nodes: every node gets a share of the slots with the node ids a
 * deployment actually uses (ids that differ in one character), a node joining takes only slots it
 * becomes preferred for, and the choice does not depend on the order of the live list.
 */
import { describe, expect, it } from 'vitest';
import { preferredOwner, slotOf } from './slot-map.js';

const SLOTS = 32;

function shares(nodes: readonly string[], slotCount = SLOTS): Map<string, number> {
  const counts = new Map(nodes.map((n) => [n, 0]));
  for (let slot = 0; slot < slotCount; slot++) {
    const owner = preferredOwner(slot, nodes)!;
    counts.set(owner, counts.get(owner)! + 1);
  }
  return counts;
}

describe('preferredOwner', () => {
  it.each([
    [['a', 'b']],
    [['gw-1', 'gw-2']],
    [['gw-1', 'gw-2', 'gw-3']],
    [['gw-1', 'gw-2', 'gw-3', 'gw-4']],
    [['node-1', 'node-2', 'node-3', 'node-4']],
    [['gw-0', 'gw-1', 'gw-2', 'gw-3', 'gw-4', 'gw-5', 'gw-6', 'gw-7']],
    [['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080']],
  ])('gives every node of %j a share of the 32 slots', (nodes) => {
    const counts = shares(nodes);
    const fair = SLOTS / nodes.length;
    for (const [node, count] of counts) {
      // Random assignment spreads around the fair share; none is left out or takes most of it.
      expect(count, `${node} of ${JSON.stringify([...counts])}`).toBeGreaterThanOrEqual(Math.max(1, Math.floor(fair / 3)));
      expect(count, `${node} of ${JSON.stringify([...counts])}`).toBeLessThanOrEqual(Math.ceil(fair * 2.2));
    }
  });

  it('a node joining takes only slots it becomes preferred for; the others stay where they were', () => {
    const before = ['gw-1', 'gw-2', 'gw-3'];
    const after = [...before, 'gw-4'];
    let moved = 0;
    for (let slot = 0; slot < 256; slot++) {
      const was = preferredOwner(slot, before);
      const is = preferredOwner(slot, after);
      if (was !== is) {
        expect(is).toBe('gw-4');
        moved += 1;
      }
    }
    expect(moved).toBeGreaterThan(256 / 4 / 2);
    expect(moved).toBeLessThan((256 / 4) * 2);
  });

  it('does not depend on the order of the live list; undefined when none is live', () => {
    for (let slot = 0; slot < SLOTS; slot++) expect(preferredOwner(slot, ['c', 'a', 'b'])).toBe(preferredOwner(slot, ['b', 'c', 'a']));
    expect(preferredOwner(0, [])).toBeUndefined();
  });
});

describe('slotOf', () => {
  it('is stable (fixed values: a conversation must never change slot between versions)', () => {
    expect(slotOf('grp:0001', 32)).toBe(slotOf('grp:0001', 32));
    expect([slotOf('grp:0001', 32), slotOf('dm:alice:bob', 32), slotOf('', 32)]).toMatchInlineSnapshot(`
      [
        5,
        2,
        11,
      ]
    `);
  });
});

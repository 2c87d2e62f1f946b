import { describe, expect, it } from 'vitest';
import { buildMembershipTimeline } from './membership-timeline.js';
import { HistoryBuilder } from './test-support/builder.js';
import { G, alice, bob, carol, cleanGroupHistory } from './test-support/scenario.js';

describe('membership timeline', () => {
  it('follows created / removed with the exit seq inclusive', () => {
    const t = buildMembershipTimeline(cleanGroupHistory());
    expect(t.isMemberAt(G, 'carol', 1)).toBe('yes');
    expect(t.isMemberAt(G, 'carol', 3)).toBe('yes');
    expect(t.isMemberAt(G, 'carol', 4)).toBe('yes'); // the removal is visible to carol
    expect(t.isMemberAt(G, 'carol', 5)).toBe('no');
    expect(t.isMemberAt(G, 'alice', 5)).toBe('yes');
    expect(t.isMemberAt(G, 'dave', 2)).toBe('no'); // created was observed and dave was never added
    expect(t.memberDuring(G, 'carol', 5, 9)).toBe('no');
    expect(t.memberDuring(G, 'carol', 3, 9)).toBe('yes');
  });

  it('handles re-adds, left, and admin ops that change nothing', () => {
    const h = new HistoryBuilder()
      .membership(G, 1, 'created', ['alice', 'bob'], [alice, bob])
      .membership(G, 2, 'left', ['bob'], [alice, bob])
      .message(alice, G, 'a3', 3, [])
      .message(alice, G, 'a4', 4, [])
      .membership(G, 5, 'added', ['bob'], [alice, bob])
      .membership(G, 6, 'admin_granted', ['bob'], [alice, bob])
      .membership(G, 7, 'added', ['carol'], [alice, bob, carol])
      .build();
    const t = buildMembershipTimeline(h);
    expect([1, 2, 3, 4, 5, 6, 7].map((s) => t.isMemberAt(G, 'bob', s))).toEqual(['yes', 'yes', 'no', 'no', 'yes', 'yes', 'yes']);
    expect(t.isMemberAt(G, 'carol', 6)).toBe('no');
    expect(t.isMemberAt(G, 'carol', 7)).toBe('yes');
    expect(t.memberDuring(G, 'bob', 3, 4)).toBe('no');
    expect(t.memberDuring(G, 'bob', 3, 5)).toBe('yes');
  });

  it('does not answer `no` across a seq nobody observed (an unseen `added` could hide there)', () => {
    const h = new HistoryBuilder()
      .membership(G, 1, 'created', ['alice', 'bob'], [alice, bob])
      .membership(G, 2, 'removed', ['bob'], [alice, bob])
      .message(alice, G, 'a3', 3, [])
      // seq 4 observed by nobody
      .message(alice, G, 'a5', 5, [])
      .build();
    const t = buildMembershipTimeline(h);
    expect(t.isMemberAt(G, 'bob', 3)).toBe('no');
    expect(t.isMemberAt(G, 'bob', 5)).toBe('unknown');
    expect(t.isMemberAt(G, 'carol', 3)).toBe('no');
    expect(t.isMemberAt(G, 'carol', 4)).toBe('unknown');
    expect(t.membershipAt(G, 'carol', 5)).toEqual({ status: 'unknown' });
    expect(t.isMemberAt(G, 'alice', 5)).toBe('yes');
  });

  it('says unknown without membership information, and knows 1:1 participants', () => {
    const t = buildMembershipTimeline([]);
    expect(t.isMemberAt(G, 'alice', 3)).toBe('unknown');
    expect(t.isMemberAt('dm:alice:bob', 'alice', 3)).toBe('yes');
    expect(t.isMemberAt('dm:alice:bob', 'bob', 99)).toBe('yes');
    expect(t.isMemberAt('dm:alice:bob', 'carol', 1)).toBe('no');
  });

  it('without `created`, only what was observed about a user is known', () => {
    const h = new HistoryBuilder().membership(G, 10, 'added', ['dave'], [['dave', 'phone']]).build();
    const t = buildMembershipTimeline(h);
    expect(t.isMemberAt(G, 'dave', 9)).toBe('unknown');
    expect(t.isMemberAt(G, 'dave', 10)).toBe('yes');
    expect(t.isMemberAt(G, 'alice', 12)).toBe('unknown');
  });
});

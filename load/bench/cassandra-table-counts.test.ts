import { describe, expect, it } from 'vitest';
import { countsPerMessage } from './cassandra-table-counts.js';

describe('countsPerMessage', () => {
  it('divides what moved by the messages, per table and in all, leaving out tables that did not move', () => {
    const before = { messages: { reads: 10, writes: 100 }, inbox: { reads: 0, writes: 50 }, receipts: { reads: 3, writes: 7 } };
    const after = {
      messages: { reads: 13, writes: 300 },
      inbox: { reads: 0, writes: 250 },
      receipts: { reads: 3, writes: 7 },
      user_devices: { reads: 20, writes: 0 },
    };
    expect(countsPerMessage(before, after, 100)).toEqual({
      tables: { messages: { reads: 0.03, writes: 2 }, inbox: { reads: 0, writes: 2 }, user_devices: { reads: 0.2, writes: 0 } },
      reads: 0.23,
      writes: 4,
    });
  });
});

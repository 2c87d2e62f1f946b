import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../checker/history.js';
import { readHistoryFile, writeHistoryFile, type HistoryFileHeader } from './history-file.js';
import { junitXml } from './junit.js';
import { mergedSummary, mergeHistories, missingShards } from './merge.js';
import { ToolError } from '../cli/tool-error.js';

const header = (shard: string): HistoryFileHeader => ({
  format: 'chatload-history',
  version: 1,
  scenario: 's',
  run_id: 'r',
  shard,
  seed: 1,
  events: 0,
});
const conv = 'dm:a:b';

/** Shard 0 drives alice, shard 1 drives bob; alice's message reaches bob on the other shard. */
function shards(deliverToBob: boolean): Array<{ header: HistoryFileHeader; events: HistoryEvent[] }> {
  const alice: HistoryEvent[] = [
    { type: 'device', atMs: 100, userId: 'a', deviceId: 'p' },
    { type: 'connect', atMs: 100, userId: 'a', deviceId: 'p' },
    { type: 'send', atMs: 200, userId: 'a', deviceId: 'p', conversationId: conv, clientMessageId: 'm1', attempt: 1 },
    { type: 'ack', atMs: 210, userId: 'a', deviceId: 'p', conversationId: conv, clientMessageId: 'm1', seq: 1 },
    { type: 'quiesce', atMs: 1000, devices: [{ userId: 'a', deviceId: 'p' }] },
  ];
  const bob: HistoryEvent[] = [
    { type: 'device', atMs: 90, userId: 'b', deviceId: 'p' },
    { type: 'connect', atMs: 90, userId: 'b', deviceId: 'p' },
    ...(deliverToBob
      ? [
          {
            type: 'deliver',
            atMs: 230,
            userId: 'b',
            deviceId: 'p',
            conversationId: conv,
            seq: 1,
            kind: 'message',
            senderUserId: 'a',
            senderDeviceId: 'p',
            clientMessageId: 'm1',
            via: 'live',
          } as HistoryEvent,
        ]
      : []),
    { type: 'quiesce', atMs: 1500, devices: [{ userId: 'b', deviceId: 'p' }] },
  ];
  return [
    { header: header('0/2'), events: alice },
    { header: header('1/2'), events: bob },
  ];
}

describe('merging shard histories', () => {
  it('orders events by time and replaces the quiesces by one at the earliest, listing every device', () => {
    const merged = mergeHistories(shards(true));
    expect(merged.map((e) => e.atMs)).toEqual([...merged.map((e) => e.atMs)].sort((a, b) => a - b));
    const quiesces = merged.filter((e) => e.type === 'quiesce');
    expect(quiesces).toEqual([
      {
        type: 'quiesce',
        atMs: 1000,
        devices: [
          { userId: 'a', deviceId: 'p' },
          { userId: 'b', deviceId: 'p' },
        ],
      },
    ]);
  });

  it('checks across shards: a message acked on one shard and never delivered on the other is a durability violation', () => {
    const good = mergedSummary(shards(true), mergeHistories(shards(true)), [{ name: 'invariant.violations', limit: 0 }], 1);
    expect(good.invariants.violations).toBe(0);
    expect(good.latency_ms.deliver.max).toBe(30);
    expect(good.users).toBe(2);
    const bad = mergedSummary(shards(false), mergeHistories(shards(false)), [{ name: 'invariant.violations', limit: 0 }], 1);
    expect(bad.invariants.witnesses[0]).toMatchObject({ invariant: 'durability', userId: 'b' });
    expect(bad.slo.passed).toBe(false);
  });

  it('refuses histories of different runs or a shard given twice, and names missing shards', () => {
    const [a, b] = shards(true);
    expect(() => mergeHistories([a!, { ...b!, header: { ...b!.header, run_id: 'other' } }])).toThrow(ToolError);
    expect(() => mergeHistories([a!, a!])).toThrow(/given twice/);
    expect(missingShards([header('0/3'), header('2/3')])).toEqual(['1/3']);
  });
});

describe('history files', () => {
  it('round-trip, and a file that is not a history is a ToolError naming the line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'load-history-'));
    const [a] = shards(true);
    await writeHistoryFile(
      join(dir, 'h.ndjson'),
      { scenario: 's', run_id: 'r', shard: '0/2', seed: 1, events: a!.events.length },
      a!.events,
    );
    const back = await readHistoryFile(join(dir, 'h.ndjson'));
    expect(back.events).toEqual(a!.events);
    expect(back.header.shard).toBe('0/2');
    await writeFile(join(dir, 'bad.ndjson'), '{"format":"chatload-history","version":1}\n{"hello":1}\n');
    await expect(readHistoryFile(join(dir, 'bad.ndjson'))).rejects.toThrow(/bad\.ndjson:2: not a history event/);
  });
});

describe('JUnit XML', () => {
  it('has one test case per objective and per invariant, failures with the witness', () => {
    const summary = mergedSummary(
      shards(false),
      mergeHistories(shards(false)),
      [
        { name: 'deliver.p99', limit: 200 },
        { name: 'invariant.violations', limit: 0 },
      ],
      1,
    );
    const xml = junitXml(summary);
    expect(xml.match(/<testcase /g)).toHaveLength(2 + summary.invariants.checked.length);
    expect(xml).toContain('<testcase name="durability" classname="load.s.invariant">');
    expect(xml).toMatch(/<failure message="1 violation\(s\) of durability">[^<]*was never delivered to b\/p/);
    expect(xml).toContain('<testcase name="order" classname="load.s.invariant"/>');
  });
});

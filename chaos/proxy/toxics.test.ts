import { describe, expect, it } from 'vitest';
import { partitionToxics, toxicsFor } from './toxiproxy.js';

describe('toxiproxy toxics for each network fault', () => {
  it('adds latency once per round trip (on the requests) and bandwidth both ways', () => {
    expect(toxicsFor({ latencyMs: 500, jitterMs: 50, bandwidthKBps: 64 })).toEqual([
      { name: 'latency', type: 'latency', stream: 'upstream', attributes: { latency: 500, jitter: 50 } },
      { name: 'bandwidth-upstream', type: 'bandwidth', stream: 'upstream', attributes: { rate: 64 } },
      { name: 'bandwidth-downstream', type: 'bandwidth', stream: 'downstream', attributes: { rate: 64 } },
    ]);
    expect(toxicsFor({})).toEqual([]);
  });

  it('blackholes with timeout 0 and resets with reset_peer, in both directions', () => {
    expect(partitionToxics('blackhole').map((t) => [t.type, t.stream, t.attributes.timeout])).toEqual([
      ['timeout', 'upstream', 0],
      ['timeout', 'downstream', 0],
    ]);
    expect(partitionToxics('reset').map((t) => [t.type, t.stream])).toEqual([
      ['reset_peer', 'upstream'],
      ['reset_peer', 'downstream'],
    ]);
  });
});

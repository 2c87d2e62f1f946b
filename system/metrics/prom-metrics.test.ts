import { describe, expect, it } from 'vitest';
import { errorCodeList } from '../core/errors.js';
import {
  acceptedEventKinds,
  clientFrameTypes,
  knownCloseReasons,
  pushOutcomes,
  serverFrameTypes,
  walReplayOutcomes,
} from './known-label-values.js';
import { PromMetrics } from './prom-metrics.js';

/** The value of one series in Prometheus' text format, or undefined when the series is absent. */
function sampleOf(text: string, metric: string, label: string, value: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${metric}{`) && l.includes(`${label}="${value}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('PromMetrics labelled counters', () => {
  it('export every known label value at 0 right after start-up', async () => {
    const { body } = await new PromMetrics({ nodeId: 'node-1', defaultMetrics: false }).render();
    const expected: Array<[string, string, readonly string[]]> = [
      ['chat_errors_total', 'code', errorCodeList],
      ['chat_push_total', 'outcome', pushOutcomes],
      ['chat_events_accepted_total', 'kind', acceptedEventKinds],
      ['chat_wal_replayed_total', 'outcome', walReplayOutcomes],
      ['chat_frames_in_total', 'type', clientFrameTypes],
      ['chat_frames_out_total', 'type', serverFrameTypes],
      ['chat_connections_closed_total', 'reason', knownCloseReasons],
    ];
    for (const [metric, label, values] of expected) {
      expect(values.length, metric).toBeGreaterThan(0);
      for (const value of values) expect(sampleOf(body, metric, label, value), `${metric}{${label}="${value}"}`).toBe(0);
    }
    expect(sampleOf(body, 'chat_errors_total', 'code', 'TOKEN_INVALID')).toBe(0);
    expect(sampleOf(body, 'chat_push_total', 'outcome', 'sent')).toBe(0);
  });

  it('count from the zero series on the first increment', async () => {
    const metrics = new PromMetrics({ nodeId: 'node-1', defaultMetrics: false });
    metrics.error('TOKEN_EXPIRED');
    metrics.pushSent('unregistered');
    const { body } = await metrics.render();
    expect(sampleOf(body, 'chat_errors_total', 'code', 'TOKEN_EXPIRED')).toBe(1);
    expect(sampleOf(body, 'chat_errors_total', 'code', 'TOKEN_INVALID')).toBe(0);
    expect(sampleOf(body, 'chat_push_total', 'outcome', 'unregistered')).toBe(1);
    expect(body.split('\n').filter((l) => l.startsWith('chat_errors_total{') && l.includes('code="TOKEN_EXPIRED"'))).toHaveLength(1);
  });
});

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../checker/history.js';
import type { RunSummary } from '../checker/run-summary.js';
import type { LoadSample } from '../load/run-load.js';
import type { FaultRecord } from './faults/fault-schedule.js';
import { parseDrillText } from './format/read-drill.js';
import { judge, surgeRecords } from './run-drill.js';

const source = fileURLToPath(new URL('./judge-test.yaml', import.meta.url));
const drillText = `
name: judged
scenario: ../scenarios/chaos-steady.yaml
overrides: { duration_s: 20 }
topology: { gateways: 2 }
steady_state: { deliver_p99_ms: 200, violations_max: 0 }
faults:
  - { kind: gateway_crash, target: gateway-1, at_s: 6, duration_s: 3 }
recovery: { throughput_within: 0.3, window_s: 1, hold_s: 2, bound_s: 10 }
`;

const ORIGIN_MS = 1_000_000;
const zero = { p50: 0, p95: 0, p99: 0, p999: 0, max: 0 };

function loadSummary(violations: number): RunSummary {
  return {
    kind: 'load',
    scenario: 'chaos-steady',
    seed: 7,
    users: 2,
    devices: 2,
    messages: { sent: 20, acked: 20, delivered: 20 },
    latency_ms: { ack: zero, deliver: zero },
    invariants: { checked: ['durability', 'order', 'no-duplicates'], violations, witnesses: [] },
    slo: { passed: true, objectives: [] },
    wall_s: 30,
  };
}

/** 20 seconds at 10 msgs/s offered; nothing delivered in seconds 7-8 (the crash), 50 ms p99 otherwise. */
function samples(): LoadSample[] {
  return Array.from({ length: 20 }, (_, i) => {
    const down = i + 1 === 7 || i + 1 === 8;
    return {
      atS: i + 1,
      connections: 2,
      offeredPerS: 10,
      sentPerS: 10,
      ackedPerS: 10,
      deliveredPerS: down ? 0 : 10,
      errorsPerS: 0,
      refusedPerS: 0,
      deliverP50Ms: down ? null : 20,
      deliverP99Ms: down ? null : 50,
      ackP99Ms: 10,
    };
  });
}

/** One message a second from a to b, delivered live 40 ms later; 3 s of slow deliveries inside the fault window. */
function history(): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (let s = 4; s < 18; s++) {
    const atMs = ORIGIN_MS + s * 1000;
    const clientMessageId = `m${s}`;
    const latencyMs = s >= 6 && s < 9 ? 3000 : 40;
    events.push({ type: 'send', atMs, userId: 'a', deviceId: 'p', conversationId: 'dm:a:b', clientMessageId, attempt: 1 });
    events.push({ type: 'ack', atMs: atMs + 5, userId: 'a', deviceId: 'p', conversationId: 'dm:a:b', clientMessageId, seq: s });
    events.push({
      type: 'deliver',
      atMs: atMs + latencyMs,
      userId: 'b',
      deviceId: 'p',
      conversationId: 'dm:a:b',
      seq: s,
      kind: 'message',
      senderUserId: 'a',
      senderDeviceId: 'p',
      clientMessageId,
      via: 'live',
    });
  }
  return events;
}

function crash(overrides: Partial<FaultRecord> = {}): FaultRecord {
  return {
    kind: 'gateway_crash',
    target: 'gateway-1',
    how: 'kill -9',
    planned_at_s: 6,
    planned_heal_s: 9,
    at_s: 6,
    healed_s: 9.5,
    recoveryFrom: 'injected',
    ...overrides,
  };
}

async function judged(
  options: {
    violations?: number;
    records?: FaultRecord[];
    aborted?: string;
    timeSeries?: LoadSample[];
    text?: string;
    peakRssBytes?: number[];
  } = {},
) {
  const drill = await parseDrillText(options.text ?? drillText, source);
  return judge(drill, {
    gatewayPeakRssBytes: options.peakRssBytes,
    runId: 'r',
    targetKind: 'local',
    topologyLines: ['gateway-0: …'],
    loadSummary: loadSummary(options.violations ?? 0),
    history: history(),
    timeSeries: options.timeSeries ?? samples(),
    originMs: ORIGIN_MS,
    records: options.records ?? [crash()],
    aborted: options.aborted,
    wallS: 31,
  });
}

describe('a drill’s verdict', () => {
  it('passes when nothing is violated, steady state holds and the fault recovered in time', async () => {
    const result = await judged();
    expect(result.exitCode).toBe(0);
    expect(result.faults).toEqual([
      expect.objectContaining({
        kind: 'gateway_crash',
        at_s: 6,
        healed_s: 9.5,
        recovered_s: 9,
        time_to_recover_s: 3,
        recovery_measured_from: 'injected',
        how: 'kill -9',
      }),
    ]);
    expect(result.summary).toMatchObject({ kind: 'chaos', drill: 'judged', target: 'local', aborted: null });
    // The slow deliveries inside the fault window are not steady state: p99 is the 40 ms ones.
    expect(result.summary.slo.objectives.find((o) => o.name === 'steady.deliver.p99')).toMatchObject({ actual: 40, passed: true });
    expect((result.summary.timeline as unknown[]).length).toBe(20);
  });

  it('exits 1 on an invariant violation, before any SLO', async () => {
    expect((await judged({ violations: 2, aborted: 'too slow' })).exitCode).toBe(1);
  });

  it('exits 2 when a fault does not recover while the load runs, or the drill aborted', async () => {
    const never = samples().map((s) => (s.atS >= 7 ? { ...s, deliveredPerS: 0, deliverP99Ms: null } : s));
    const notRecovered = await judged({ timeSeries: never });
    expect(notRecovered.exitCode).toBe(2);
    expect(notRecovered.faults[0]!.recovered_s).toBeNull();
    expect(notRecovered.summary.slo.objectives.find((o) => o.name.startsWith('recovery gateway_crash'))).toMatchObject({
      actual: null,
      passed: false,
    });
    expect((await judged({ aborted: 'abort rule fired' })).exitCode).toBe(2);
  });

  it('exits 3 when a fault could not be injected, and lists faults that never ran', async () => {
    const result = await judged({
      records: [crash({ error: 'inject: no such process' }), crash({ at_s: null, healed_s: null, planned_at_s: 12 })],
    });
    expect(result.exitCode).toBe(3);
    expect(result.error).toContain('no such process');
    expect(result.summary.faults_not_run).toEqual([{ kind: 'gateway_crash', target: 'gateway-1', planned_at_s: 12 }]);
  });

  it('judges a surge like a fault healed at its end, and each gateway’s peak memory against the drill’s bound', async () => {
    const text = drillText.replace(
      /faults:\n.*\n/,
      'surges:\n  - { at_s: 6, duration_s: 3, multiplier: 3 }\nmemory: { gateway_peak_rss_mb_max: 300 }\n',
    );
    const drill = await parseDrillText(text, source);
    const records = surgeRecords(drill, samples());
    expect(records).toEqual([
      expect.objectContaining({ kind: 'load_surge', target: 'clients', at_s: 6, healed_s: 9, recoveryFrom: 'healed' }),
    ]);
    const MB = 1024 * 1024;
    const within = await judged({ text, records, peakRssBytes: [200 * MB, 250.4 * MB] });
    expect(within.faults[0]).toMatchObject({ kind: 'load_surge', recovery_measured_from: 'healed' });
    expect(within.summary.gateway_peak_rss_mb).toEqual([200, 250.4]);
    expect(within.summary.slo.objectives.find((o) => o.name === 'gateway.peak_rss_mb')).toMatchObject({ actual: 250.4, passed: true });
    const over = await judged({ text, records, peakRssBytes: [200 * MB, 301 * MB] });
    expect(over.summary.slo.objectives.find((o) => o.name === 'gateway.peak_rss_mb')).toMatchObject({ actual: 301, passed: false });
    expect(over.exitCode).toBe(2);
    const unknown = await judged({ text, records });
    expect(unknown.summary.slo.objectives.find((o) => o.name === 'gateway.peak_rss_mb')).toMatchObject({ actual: null, passed: false });
  });

  it('leaves a surge the run never reached uninjected', async () => {
    const drill = await parseDrillText(
      drillText.replace(/faults:\n.*\n/, 'surges:\n  - { at_s: 6, duration_s: 3, multiplier: 3 }\n'),
      source,
    );
    expect(surgeRecords(drill, samples().slice(0, 4))).toEqual([expect.objectContaining({ at_s: null, healed_s: null })]);
  });
});

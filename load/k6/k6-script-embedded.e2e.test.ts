import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { readScenario } from '../../scenarios/format/index.js';
import { startServerThread, type ServerThread } from '../embedded-server-thread.js';
import { ChatMetricNames as exporterMetricNames } from './export/chat-metric-names.js';
import { writeK6Script } from './export/write-k6-script.js';
import { evaluateThresholds } from './node-adapter/evaluate-thresholds.js';
import { clearRecordedSamples, recordedMetric } from './node-adapter/recorded-samples.js';
import { runK6Iterations, type K6ScriptModule } from './node-adapter/run-k6-iterations.js';

/*
 * The exported script's protocol logic against the embedded server. k6 itself is not run (its
 * binary is AGPL): the k6 modules the script imports resolve to the Node adapter instead.
 */
vi.mock('k6', () => import('./node-adapter/k6-core.js'));
vi.mock('k6/http', () => import('./node-adapter/k6-http.js'));
vi.mock('k6/metrics', () => import('./node-adapter/k6-metrics.js'));
vi.mock('k6/timers', () => import('./node-adapter/k6-timers.js'));
vi.mock('k6/websockets', () => import('./node-adapter/k6-websockets.js'));

interface ExportedScript extends K6ScriptModule {
  options: { thresholds: Record<string, string[]> };
}

const ITERATIONS = 6;
const samplesOf = (name: string) => recordedMetric(name)?.samples ?? [];
const total = (name: string) => samplesOf(name).reduce((sum, s) => sum + s.value, 0);

describe('exported k6 script on the embedded server', () => {
  let server: ServerThread;
  let outDir: string;
  let scriptPath: string;

  beforeAll(async () => {
    server = await startServerThread({ port: 0 });
    outDir = await mkdtemp(join(tmpdir(), 'chatload-k6-run-'));
    scriptPath = (await writeK6Script(await readScenario('scenarios/steady-1to1.yaml'), 'steady-1to1.yaml', join(outDir, 'steady.ts')))
      .scriptPath;
  });
  afterAll(async () => {
    await server?.stop();
    await rm(outDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    clearRecordedSamples();
    vi.resetModules();
  });

  // The warm-up is set to 0 so that this short run's samples count for the steady-phase thresholds.
  const baseEnv = () => ({ CHAT_WS_URL: server.wsUrl, CHAT_USERS: '4', CHAT_WARMUP_MS: '0', CHAT_MESSAGE_TIMEOUT_MS: '10000' });

  it('delivers every message with tokens from /dev/token and records every threshold metric', async () => {
    const { script, setupData } = await runK6Iterations(() => import(scriptPath) as Promise<ExportedScript>, {
      env: { ...baseEnv(), CHAT_RUN_ID: `k6e2e-${process.pid}` },
      iterations: ITERATIONS,
    });

    expect((setupData as { devices: unknown[] }).devices).toHaveLength(4);
    expect(total(exporterMetricNames.messagesSent)).toBe(ITERATIONS);
    expect(total(exporterMetricNames.messagesDelivered)).toBe(ITERATIONS);
    expect(samplesOf(exporterMetricNames.ackLatencyMs)).toHaveLength(ITERATIONS);
    expect(samplesOf(exporterMetricNames.deliverLatencyMs).filter((s) => s.tags.phase === 'steady')).toHaveLength(ITERATIONS);
    expect(samplesOf('checks').every((s) => s.value === 1)).toBe(true);

    const verdicts = evaluateThresholds(script.options.thresholds);
    expect(verdicts.map((v) => v.metric).sort()).toEqual(Object.keys(script.options.thresholds).sort());
    // Every threshold has data to judge; latencies are not asserted (a busy 2-core machine), counts are.
    expect(verdicts.every((v) => v.actual !== null)).toBe(true);
    expect(verdicts.filter((v) => !v.metric.includes('latency')).every((v) => v.passed)).toBe(true);
  }, 60_000);

  it('runs on pre-issued tokens from CHAT_TOKENS_FILE without asking a token endpoint', async () => {
    const devices = [];
    for (const userId of [`pre-${process.pid}-a`, `pre-${process.pid}-b`]) {
      const response = await fetch(`${server.httpUrl}/dev/token`, { method: 'POST', body: JSON.stringify({ userId, deviceId: 'k6' }) });
      devices.push({ userId, deviceId: 'k6', token: ((await response.json()) as { token: string }).token });
    }
    const tokensFile = join(outDir, 'tokens.json');
    await writeFile(tokensFile, JSON.stringify(devices));
    // An unreachable token endpoint proves the script never calls it.
    const env = { ...baseEnv(), CHAT_TOKENS_FILE: tokensFile, CHAT_TOKEN_URL: 'http://127.0.0.1:9/dev/token' };
    await runK6Iterations(() => import(scriptPath) as Promise<ExportedScript>, { env, iterations: 3 });

    expect(total(exporterMetricNames.messagesDelivered)).toBe(3);
    expect(samplesOf(exporterMetricNames.errors).every((s) => s.value === 0)).toBe(true);
  }, 60_000);

  it('counts an authentication failure as an error, not a delivery', async () => {
    const env = {
      ...baseEnv(),
      CHAT_TOKENS: JSON.stringify([
        { userId: 'x', deviceId: 'k6', token: 'not-a-token' },
        { userId: 'y', deviceId: 'k6', token: 'not-a-token' },
      ]),
    };
    await runK6Iterations(() => import(scriptPath) as Promise<ExportedScript>, { env, iterations: 1 });

    expect(samplesOf(exporterMetricNames.errors)).toEqual([{ value: 1, tags: { stage: 'connect' } }]);
    expect(total(exporterMetricNames.messagesSent)).toBe(0);
  }, 60_000);

  it('the script module declares the metric names the exporter writes thresholds for', async () => {
    const session = await import('./script/chat-k6-session.js');
    expect(session.ChatMetricNames).toEqual(exporterMetricNames);
  });
});

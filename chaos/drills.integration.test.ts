/**
 * The CI drills against the local real topology: two gateway processes on the shared Cassandra
 * (behind the fault proxy) and a private Redis, the chaos-steady load through the live load driver.
 * The bar is the invariants — zero lost, reordered or duplicated messages — and a recovery time
 * reported for the fault. SLO figures are printed, not asserted (this machine's speed varies).
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readDrill } from './format/read-drill.js';
import { writeDrillOutputs } from './report/outputs.js';
import { formatFaults } from './report/text-timeline.js';
import { runDrill, type DrillResult } from './run-drill.js';
import { startDrillTopology } from './topology/local-topology.js';

const ciDir = fileURLToPath(new URL('./ci/', import.meta.url));

async function runCiDrill(file: string): Promise<{ result: DrillResult; json: Record<string, unknown>; html: string }> {
  const drill = await readDrill(path.join(ciDir, file));
  const runId = `${drill.name.slice(0, 20)}-${Date.now().toString(36)}`;
  const result = await runDrill(drill, {
    runId,
    targetKind: 'local',
    topology: () => startDrillTopology(drill, runId),
  });
  const out = await mkdtemp(path.join(os.tmpdir(), 'chaos-test-'));
  await writeDrillOutputs(drill, result, { json: path.join(out, 'summary.json'), html: path.join(out, 'report.html') });
  process.stdout.write(`${drill.name}: exit ${result.exitCode}\n${formatFaults(result.faults)}\n`);
  return {
    result,
    json: JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8')) as Record<string, unknown>,
    html: await readFile(path.join(out, 'report.html'), 'utf8'),
  };
}

function expectCarriedOutWithoutViolations({ result, json, html }: Awaited<ReturnType<typeof runCiDrill>>, kind: string): void {
  expect(result.error).toBeUndefined();
  expect(result.summary.invariants.checked).toEqual(expect.arrayContaining(['durability', 'order', 'no-duplicates']));
  // The bar: nothing lost, reordered or duplicated (the witnesses say what went wrong otherwise).
  expect(result.summary.invariants.witnesses.map((w) => w.witness)).toEqual([]);
  expect(result.summary.invariants.violations).toBe(0);
  expect(result.summary.messages.acked).toBeGreaterThan(0);
  const [fault] = result.faults;
  expect(fault).toMatchObject({ kind, at_s: expect.any(Number), healed_s: expect.any(Number) });
  // Recovery time is reported: service came back while the load still ran.
  expect(fault!.time_to_recover_s).toEqual(expect.any(Number));
  expect(json).toMatchObject({ kind: 'chaos', faults: [expect.objectContaining({ kind, recovered_s: fault!.recovered_s })] });
  expect(html).toContain('Chaos drill');
  expect(html).toContain(kind);
}

describe('chaos drills on the local real topology', () => {
  it('gateway-kill (short): a gateway killed with SIGKILL loses, reorders and duplicates nothing', async () => {
    expectCarriedOutWithoutViolations(await runCiDrill('gateway-kill-short.yaml'), 'gateway_crash');
  }, 150_000);

  it('cassandra outage (short, through the fault proxy): nothing lost, reordered or duplicated', async () => {
    expectCarriedOutWithoutViolations(await runCiDrill('cassandra-outage-short.yaml'), 'cassandra_outage');
  }, 180_000);

  it("overload (short): a surge past the gateways' admission limits is refused with OVERLOADED and re-sent, nothing lost, memory bounded", async () => {
    const run = await runCiDrill('overload-short.yaml');
    expectCarriedOutWithoutViolations(run, 'load_surge');
    const refused = run.result.summary.refused_sends as Record<string, number>;
    expect(refused.OVERLOADED).toBeGreaterThan(0);
    expect(run.result.summary.gateway_peak_rss_mb).toEqual([expect.any(Number), expect.any(Number)]);
    expect(run.result.summary.slo.objectives.find((o) => o.name === 'gateway.peak_rss_mb')).toMatchObject({ passed: true });
  }, 150_000);
});

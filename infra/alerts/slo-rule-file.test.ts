import fs from 'node:fs';
import path from 'node:path';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ChatError, errorCodeList } from '../../system/core/errors.js';
import { knownCloseReasons } from '../../system/metrics/known-label-values.js';
import { PromMetrics } from '../../system/metrics/prom-metrics.js';
import { DriverMetrics } from '../../load/driver-metrics.js';
import { REPO_ROOT, loadConfig } from '../local/config.js';
import { prometheusConfig } from '../local/prometheus.js';
import { SLO_RULES_PATH } from './rule-file-paths.js';
import { errorBudget, sloRuleFileText, sloRuleGroups } from './slo-rule-file.js';
import { DROP_CLOSE_REASONS, LATENCY_TARGET_S, SERVER_FAULT_ERROR_CODES, SERVICE_LEVEL_OBJECTIVES } from './slo-objectives.js';

/*
 * What promtool cannot see: that the rules read metrics the gateway and the load driver really
 * export, with the label values they really use, and that every Prometheus we start loads them.
 * promtool itself runs in `npm run alerts:test` (slo-rules.test.yml).
 */

async function exportedMetrics(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
  const gateway = new PromMetrics({ nodeId: 'gw-test', defaultMetrics: false });
  const driver = new DriverMetrics({ shard: '1/1', scenario: 'test' });
  return [...(await gateway.registry.getMetricsAsJSON()), ...(await driver.registry.getMetricsAsJSON())];
}

function allExpressions(): string[] {
  return sloRuleGroups().flatMap((group) => group.rules.map((rule) => rule.expr));
}

describe('SLO rule file', () => {
  it('is committed as generated (npm run alerts:write)', () => {
    expect(fs.readFileSync(SLO_RULES_PATH, 'utf8')).toBe(sloRuleFileText());
  });

  it('reads only metrics the gateway or the load driver exports', async () => {
    const exported = new Set((await exportedMetrics()).map((metric) => metric.name));
    const read = new Set(allExpressions().flatMap((expr) => [...expr.matchAll(/\b((?:chat|load)_[a-z0-9_]+)(?=[{[])/g)].map((m) => m[1]!)));
    expect(read.size).toBeGreaterThan(5);
    for (const name of read) expect(exported, name).toContain(name.replace(/_(bucket|count|sum)$/, ''));
  });

  it('counts latency against a bucket boundary both histograms have', async () => {
    const metrics = await exportedMetrics();
    for (const name of ['chat_deliver_latency_seconds', 'load_ack_latency_seconds']) {
      const boundaries = metrics.find((m) => m.name === name)!.values.map((v) => v.labels.le);
      expect(boundaries, name).toContain(LATENCY_TARGET_S);
    }
  });

  it('calls the retryable codes other than RATE_LIMITED server faults', () => {
    const retryable = errorCodeList.filter((code) => new ChatError(code).retryable && code !== 'RATE_LIMITED');
    expect([...SERVER_FAULT_ERROR_CODES].sort()).toEqual(retryable.sort());
  });

  it('counts as drops only close reasons the gateway reports, in plain words', () => {
    for (const reason of DROP_CLOSE_REASONS) {
      expect(knownCloseReasons.includes(reason) || /^closed_\d+$/.test(reason), reason).toBe(true);
      // They are joined into a regex alternation unescaped.
      expect(reason).toMatch(/^[\w ]+$/);
    }
  });

  it('gives each SLO a unique name, alerts and an exact budget', () => {
    expect(new Set(SERVICE_LEVEL_OBJECTIVES.map((s) => s.name)).size).toBe(SERVICE_LEVEL_OBJECTIVES.length);
    expect(SERVICE_LEVEL_OBJECTIVES.map(errorBudget)).toEqual([0.01, 0.01, 0.001, 0.001, 0.01]);
    const alerts = sloRuleGroups().flatMap((g) => g.rules.flatMap((r) => ('alert' in r ? [r.alert] : [])));
    expect(new Set(alerts).size).toBe(SERVICE_LEVEL_OBJECTIVES.length * 2);
  });

  it('is loaded by the local Prometheus of npm run services', () => {
    const config = parse(prometheusConfig(loadConfig({})));
    expect(config.rule_files).toEqual([SLO_RULES_PATH]);
  });

  it('is mounted where the compose Prometheus config loads it', () => {
    const compose = parse(fs.readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'));
    const mounts = (compose.services.prometheus.volumes as string[]).map((volume) => volume.split(':'));
    const configMount = mounts.find(([, target]) => target === '/etc/prometheus/prometheus.yml')!;
    const composeConfig = parse(fs.readFileSync(path.join(REPO_ROOT, configMount[0]!), 'utf8'));
    const ruleMounts = (composeConfig.rule_files as string[]).map((file) => mounts.find(([, target]) => target === file)?.[0]);
    expect(ruleMounts.map((source) => source && path.resolve(REPO_ROOT, source))).toEqual([SLO_RULES_PATH]);
  });
});

import type { Objective } from '../checker/slo.js';
import type { ChartThreshold } from './report-input.js';

/**
 * The latency objectives a run was judged by, as chart reference lines per latency metric: an
 * objective `deliver.p99` with target `< 200 ms` becomes `{ deliver: [{ label: 'SLO deliver p99 < 200 ms', value: 200 }] }`.
 * Taken from the judged objectives (not the scenario file), so `--slo` overrides show as judged;
 * a qualified objective (a drill's `steady.deliver.p99`) keeps its qualifier in the label.
 */
export function sloLatencyThresholds(objectives: readonly Objective[]): Record<string, ChartThreshold[]> {
  const out: Record<string, ChartThreshold[]> = {};
  for (const objective of objectives) {
    // `deliver.p99`, or with a qualifier in front: a chaos drill's `steady.deliver.p99`.
    const name = /^(?:([a-z]+)\.)?([a-z]+)\.(p\d+(?:\.\d+)?)$/.exec(objective.name);
    const target = /^<=?\s*(\d+(?:\.\d+)?)\s*ms$/.exec(objective.target.trim());
    if (!name || !target) continue;
    const qualifier = name[1] ? `${name[1]} ` : '';
    (out[name[2]!] ??= []).push({ label: `SLO ${qualifier}${name[2]} ${name[3]} ${objective.target.trim()}`, value: Number(target[1]) });
  }
  return out;
}

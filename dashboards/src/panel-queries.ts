/**
 * Every PromQL query of a generated dashboard, with Grafana's variables replaced by what a
 * Prometheus can run: the rate window by a fixed one, label variables by "all" (`.*`).
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';

export interface PanelQueryOf {
  dashboard: string;
  panel: string;
  /** As written in the dashboard. */
  expr: string;
  /** With the variables replaced, ready for Prometheus' query API. */
  runnable: string;
}

/** What the test puts in for each dashboard variable. */
export const VARIABLE_VALUES: Readonly<Record<string, string>> = {
  __rate_interval: '1m',
  node: '.*',
  scenario: '.*',
};

export function panelQueries(dashboard: Dashboard): PanelQueryOf[] {
  return (dashboard.panels ?? []).flatMap((panel) => {
    const targets = 'targets' in panel ? (panel.targets ?? []) : [];
    return targets.map((target) => {
      const expr = String((target as { expr?: unknown }).expr ?? '');
      return { dashboard: dashboard.title ?? '', panel: panel.title ?? '', expr, runnable: withVariables(expr) };
    });
  });
}

function withVariables(expr: string): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    const value = VARIABLE_VALUES[name];
    if (value === undefined) throw new Error(`no test value for dashboard variable $${name} in ${expr}`);
    return value;
  });
}

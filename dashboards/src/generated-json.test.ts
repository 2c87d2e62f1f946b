/**
 * The dashboards in dashboards/grafana/dashboards/ are generated (npm run dashboards): the files
 * in the repository must be exactly what the code produces, and every panel must go through the
 * datasource variable, so an import anywhere asks for a Prometheus instead of a fixed uid.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DASHBOARD_DIR, DASHBOARD_FILES, renderDashboard } from './dashboard-files.js';
import { DATASOURCE } from './panel-kit.js';

describe('generated dashboards', () => {
  it.each(DASHBOARD_FILES.map((f) => [f.file, f] as const))('%s is up to date (npm run dashboards)', (file, { build }) => {
    expect(readFileSync(path.join(DASHBOARD_DIR, file), 'utf8')).toBe(renderDashboard(build()));
  });

  it('the folder Grafana provisions holds only generated dashboards', () => {
    expect(readdirSync(DASHBOARD_DIR).sort()).toEqual(DASHBOARD_FILES.map((f) => f.file).sort());
  });

  it('every panel and query uses the datasource variable, and uids are unique', () => {
    const uids = new Set<string>();
    for (const { build } of DASHBOARD_FILES) {
      const dashboard = build();
      uids.add(dashboard.uid ?? '');
      expect(dashboard.templating?.list?.[0]).toMatchObject({ type: 'datasource', query: 'prometheus' });
      for (const panel of dashboard.panels ?? []) {
        if (panel.type === 'row') continue;
        expect(panel).toMatchObject({ datasource: DATASOURCE });
        const targets = 'targets' in panel ? (panel.targets ?? []) : [];
        expect(targets.length).toBeGreaterThan(0);
        for (const target of targets) expect(target).toMatchObject({ datasource: DATASOURCE });
      }
    }
    expect(uids.size).toBe(DASHBOARD_FILES.length);
  });
});

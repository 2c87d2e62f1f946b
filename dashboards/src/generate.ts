/**
 * `npm run dashboards`: writes every dashboard of dashboard-files.ts as JSON into
 * dashboards/grafana/dashboards/. `npm run dashboards -- --check` writes nothing and exits 1
 * naming each file that differs from what the code generates (the test does the same check).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DASHBOARD_DIR, DASHBOARD_FILES, renderDashboard } from './dashboard-files.js';

const check = process.argv.includes('--check');
const stale: string[] = [];
for (const { file, build } of DASHBOARD_FILES) {
  const target = path.join(DASHBOARD_DIR, file);
  const text = renderDashboard(build());
  if (check) {
    let current: string | undefined;
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      current = undefined;
    }
    if (current !== text) stale.push(file);
    continue;
  }
  writeFileSync(target, text);
  process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
}
if (stale.length > 0) {
  process.stderr.write(`out of date (run npm run dashboards): ${stale.join(', ')}\n`);
  process.exit(1);
}

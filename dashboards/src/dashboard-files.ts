/**
 * Every generated dashboard and the file it is written to. Grafana's provisioning
 * (grafana/provisioning/dashboards/chat.yml) loads every JSON file of that folder, so a new
 * dashboard needs only a line here.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { chaosSloDashboard } from './chaos-slo.js';
import { chatOverviewDashboard } from './chat-overview.js';
import { loadDriverDashboard } from './load-driver.js';

/** dashboards/grafana/dashboards/, the folder docker-compose.yml mounts into Grafana. */
export const DASHBOARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../grafana/dashboards');

export interface DashboardFile {
  /** File name inside DASHBOARD_DIR. */
  file: string;
  build: () => Dashboard;
}

export const DASHBOARD_FILES: readonly DashboardFile[] = [
  { file: 'chat-overview.json', build: chatOverviewDashboard },
  { file: 'chat-load-driver.json', build: loadDriverDashboard },
  { file: 'chat-slo.json', build: chaosSloDashboard },
];

/** The file's exact text: two-space JSON and a final newline, so regenerating is byte-stable. */
export function renderDashboard(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

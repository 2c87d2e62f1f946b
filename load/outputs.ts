import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RunSummary } from '../checker/run-summary.js';
import { writeHtmlReport, type ReportChart } from '../reports/index.js';
import { junitXml } from './junit.js';

export interface OutputPaths {
  json?: string | undefined;
  junit?: string | undefined;
  html?: string | undefined;
}

async function writeText(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

/** Writes the summary as JSON, JUnit XML and an HTML report, as asked. */
export async function writeOutputs(
  summary: RunSummary,
  paths: OutputPaths,
  report: { charts?: ReportChart[]; notes?: string[] } = {},
): Promise<void> {
  if (paths.json) await writeText(paths.json, `${JSON.stringify(summary, null, 2)}\n`);
  if (paths.junit) await writeText(paths.junit, junitXml(summary));
  if (paths.html) {
    await writeHtmlReport(paths.html, {
      title: `Load run · ${summary.scenario}`,
      summary,
      ...(report.charts ? { charts: report.charts } : {}),
      ...(report.notes ? { notes: report.notes } : {}),
    });
  }
}

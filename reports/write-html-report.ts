import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { renderHtmlReport } from './render-html-report.js';
import { ReportErrorCodes } from './report-error-codes.js';
import type { HtmlReportInput } from './report-input.js';
import { ToolError } from '../cli/tool-error.js';

/** Renders the report and writes it to `path` (parent folders are created). Rejects with ToolError WRITE_FAILED. */
export async function writeHtmlReport(path: string, input: HtmlReportInput): Promise<void> {
  const html = renderHtmlReport(input);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, html, 'utf8');
  } catch (error) {
    throw new ToolError(ReportErrorCodes.WRITE_FAILED, `cannot write the HTML report to ${path}: ${(error as Error).message}`);
  }
}

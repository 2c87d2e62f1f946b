import { writeFile } from 'node:fs/promises';
import type { SimResult } from '../run-simulation.js';

/** Placeholder: replaced by the reports/ integration. */
export async function writeSimHtml(path: string, result: SimResult): Promise<void> {
  await writeFile(path, `<pre>${JSON.stringify(result.summary, null, 2)}</pre>`);
}

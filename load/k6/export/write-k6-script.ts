import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scenario } from '../../../scenarios/format/index.js';
import { K6ExportErrorCodes } from './k6-export-error-codes.js';
import { renderK6Script, SESSION_MODULE_FILE } from './render-k6-script.js';
import { ToolError } from '../../../cli/tool-error.js';

/** The protocol module every exported script imports, as it lives in the project. */
export const SESSION_MODULE_PATH = fileURLToPath(new URL(`../script/${SESSION_MODULE_FILE}`, import.meta.url));

export interface WrittenK6Script {
  scriptPath: string;
  sessionModulePath: string;
}

/**
 * Writes the script to `outPath` and the protocol module beside it: k6 loads imports by path, so
 * the folder holding both is what `k6 run` (or `k6 archive`, for k6-operator) needs.
 */
export async function writeK6Script(scenario: Scenario, source: string, outPath: string): Promise<WrittenK6Script> {
  const sessionModulePath = join(dirname(outPath), SESSION_MODULE_FILE);
  try {
    await mkdir(dirname(outPath), { recursive: true });
    await writeFile(outPath, renderK6Script(scenario, source));
    await copyFile(SESSION_MODULE_PATH, sessionModulePath);
  } catch (error) {
    throw new ToolError(K6ExportErrorCodes.UNWRITABLE, `cannot write ${outPath}: ${(error as Error).message}`);
  }
  return { scriptPath: outPath, sessionModulePath };
}

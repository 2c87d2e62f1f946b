import { readFile } from 'node:fs/promises';

/**
 * A JSON file's document, or the error `fail` makes from a one-line reason naming the file
 * ("cannot read: …", "not JSON: …"), so each command keeps its own error code.
 */
export async function readJsonFile(path: string, fail: (message: string) => Error): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw fail(`${path}: cannot read: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw fail(`${path}: not JSON: ${(error as Error).message}`);
  }
}

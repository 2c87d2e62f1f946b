import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { HistoryEvent } from '../checker/history.js';
import { LoadErrorCodes } from './error-codes.js';
import { ToolError } from '../cli/tool-error.js';

/** First line of a history file: what produced it, so a merge can check the shards belong together. */
export interface HistoryFileHeader {
  format: 'chatload-history';
  version: 1;
  scenario: string;
  run_id: string;
  shard: string;
  seed: number;
  events: number;
}

/** A shard's history as JSON lines: the header, then one event per line (large runs stay streamable). */
export async function writeHistoryFile(
  path: string,
  header: Omit<HistoryFileHeader, 'format' | 'version'>,
  events: readonly HistoryEvent[],
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const lines = [JSON.stringify({ format: 'chatload-history', version: 1, ...header } satisfies HistoryFileHeader)];
  for (const event of events) lines.push(JSON.stringify(event));
  await writeFile(path, `${lines.join('\n')}\n`);
}

export async function readHistoryFile(path: string): Promise<{ header: HistoryFileHeader; events: HistoryEvent[] }> {
  const events: HistoryEvent[] = [];
  let header: HistoryFileHeader | undefined;
  let lineNumber = 0;
  try {
    const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === '') continue;
      const value = JSON.parse(line) as unknown;
      if (!header) {
        const h = value as Partial<HistoryFileHeader>;
        if (h.format !== 'chatload-history' || h.version !== 1) throw new Error('first line is not a chatload-history v1 header');
        header = h as HistoryFileHeader;
      } else {
        const e = value as Partial<HistoryEvent>;
        if (typeof e.type !== 'string' || typeof e.atMs !== 'number') throw new Error('not a history event');
        events.push(e as HistoryEvent);
      }
    }
  } catch (error) {
    throw new ToolError(LoadErrorCodes.BAD_HISTORY_FILE, `${path}${lineNumber > 0 ? `:${lineNumber}` : ''}: ${(error as Error).message}`);
  }
  if (!header) throw new ToolError(LoadErrorCodes.BAD_HISTORY_FILE, `${path}: empty history file`);
  return { header, events };
}

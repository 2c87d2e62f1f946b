import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeAheadLogContract } from '../../ports/contracts/index.js';
import type { WalEntryDraft } from '../../ports/write-ahead-log.js';
import { FileWriteAheadLog, WAL_FILE_NAME } from './file-write-ahead-log.js';

const root = mkdtempSync(path.join(tmpdir(), 'wal-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => path.join(root, `log-${++dirs}`);
const byDir = new WeakMap<object, string>();

writeAheadLogContract('FileWriteAheadLog', async () => ({
  open: async () => {
    const dir = freshDir();
    const log = await FileWriteAheadLog.open(dir);
    byDir.set(log, dir);
    return log;
  },
  reopen: async (log) => {
    const dir = byDir.get(log)!;
    await log.close();
    const reopened = await FileWriteAheadLog.open(dir);
    byDir.set(reopened, dir);
    return reopened;
  },
}));

/** What a restarted node would find in the directory. */
async function pendingAfterRestart(dir: string) {
  const log = await FileWriteAheadLog.open(dir);
  const pending = log.pending();
  await log.close();
  return pending;
}

function draft(n: number): WalEntryDraft {
  return {
    conversationId: 'dm:alice:bob',
    senderUserId: 'alice',
    senderDeviceId: 'phone',
    clientMessageId: `m-${n}`,
    bodyBase64: 'aGk=',
    acceptedAtMs: n,
  };
}

describe('FileWriteAheadLog on disk', () => {
  it('a torn last line (crash mid-write) is cut off; what was synced before it survives', async () => {
    const dir = freshDir();
    const log = await FileWriteAheadLog.open(dir);
    const kept = await log.append(draft(1));
    await log.close();
    appendFileSync(path.join(dir, WAL_FILE_NAME), '1234abcd {"e":{"id":2,"conversationId":"dm:al');
    const reopened = await FileWriteAheadLog.open(dir);
    expect(reopened.pending()).toEqual([kept]);
    const next = await reopened.append(draft(3));
    await reopened.close();
    expect(await pendingAfterRestart(dir)).toEqual([kept, next]);
  });

  it('stops at a line whose checksum does not match rather than replaying a corrupt entry', async () => {
    const dir = freshDir();
    const log = await FileWriteAheadLog.open(dir);
    const first = await log.append(draft(1));
    await log.append(draft(2));
    await log.close();
    const file = path.join(dir, WAL_FILE_NAME);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"m-2"', '"m-X"'));
    expect(await pendingAfterRestart(dir)).toEqual([first]);
  });

  it('group-commits a burst of concurrent appends and truncates the file once drained', async () => {
    const dir = freshDir();
    const log = await FileWriteAheadLog.open(dir);
    const entries = await Promise.all(Array.from({ length: 500 }, (_, i) => log.append(draft(i))));
    expect(log.pending()).toHaveLength(500);
    expect(statSync(path.join(dir, WAL_FILE_NAME)).size).toBeGreaterThan(500 * 100);
    await Promise.all(entries.map((e) => log.complete(e.id)));
    expect(statSync(path.join(dir, WAL_FILE_NAME)).size).toBe(0);
    await log.close();
    expect(await pendingAfterRestart(dir)).toEqual([]);
  });

  it('refuses appends after close, retryably (the gateway is stopping: the client re-sends elsewhere)', async () => {
    const log = await FileWriteAheadLog.open(freshDir());
    await log.close();
    await expect(log.append(draft(1))).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      retryable: true,
      message: expect.stringMatching(/closed/),
    });
  });
});

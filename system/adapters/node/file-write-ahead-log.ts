/**
 * The write-ahead log as one append-only file per gateway node (docs/write-ahead-log.md).
 *
 * Each line is `<crc32 hex> <json>`: `{"e": entry}` logs an accepted send, `{"c": id}` marks it
 * replayed. Appends are group-committed: every line queued while a write+fdatasync is running goes
 * out in the next one, so a burst costs one fsync, not one per message. On open the file is read
 * back; a torn or corrupt tail (a crash mid-write) is cut off, since nothing in it was acknowledged
 * (acknowledgement waits for the fsync). The file is truncated when nothing is pending, so it
 * stays small between outages.
 */
import { mkdirSync, openSync, closeSync, readFileSync, ftruncateSync, fsyncSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { ChatError } from '../../core/errors.js';
import type { WalEntry, WalEntryDraft, WriteAheadLog } from '../../ports/write-ahead-log.js';

export const WAL_FILE_NAME = 'wal.log';

type Record = { e: WalEntry } | { c: number };

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class FileWriteAheadLog implements WriteAheadLog {
  private readonly entries = new Map<number, WalEntry>();
  private nextId: number;
  private queuedLines: string[] = [];
  private queuedWaiters: Waiter[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;

  private constructor(
    readonly filePath: string,
    private readonly file: FileHandle,
    recovered: WalEntry[],
  ) {
    for (const entry of recovered) this.entries.set(entry.id, entry);
    this.nextId = recovered.reduce((max, e) => Math.max(max, e.id), 0) + 1;
  }

  /** Opens (creating if needed) the log in `dir`, recovering what a previous run left pending. */
  static async open(dir: string): Promise<FileWriteAheadLog> {
    mkdirSync(dir, { recursive: true });
    const filePath = path.join(dir, WAL_FILE_NAME);
    const { pending, goodBytes, totalBytes, maxId } = readLog(filePath);
    if (goodBytes < totalBytes) {
      // Cut the torn tail so new lines start on a clean boundary.
      const fd = openSync(filePath, 'r+');
      try {
        ftruncateSync(fd, goodBytes);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    const file = await open(filePath, 'a');
    const log = new FileWriteAheadLog(filePath, file, pending);
    log.nextId = Math.max(log.nextId, maxId + 1);
    return log;
  }

  append(draft: WalEntryDraft): Promise<WalEntry> {
    // The gateway is stopping: a retryable refusal, so the client re-sends (to another gateway)
    // rather than treating the send as failed for good.
    if (this.closed)
      return Promise.reject(new ChatError('STORAGE_UNAVAILABLE', 'write-ahead log is closed (the gateway is stopping); retry'));
    const entry: WalEntry = { ...draft, id: this.nextId++ };
    this.entries.set(entry.id, entry);
    return this.write({ e: entry }).then(
      () => entry,
      (error: unknown) => {
        this.entries.delete(entry.id);
        throw error;
      },
    );
  }

  async complete(id: number): Promise<void> {
    if (!this.entries.delete(id)) return;
    await this.write({ c: id });
    if (this.entries.size === 0) await this.truncateWhenIdle();
  }

  pending(): readonly WalEntry[] {
    return [...this.entries.values()];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.file.close();
  }

  private write(record: Record): Promise<void> {
    const json = JSON.stringify(record);
    this.queuedLines.push(`${crc32(json).toString(16).padStart(8, '0')} ${json}\n`);
    const done = new Promise<void>((resolve, reject) => this.queuedWaiters.push({ resolve, reject }));
    if (!this.flushing) this.flushing = this.flushLoop();
    return done;
  }

  /** Writes and syncs batches until nothing is queued. */
  private async flushLoop(): Promise<void> {
    try {
      while (this.queuedLines.length > 0) {
        const lines = this.queuedLines;
        const waiters = this.queuedWaiters;
        this.queuedLines = [];
        this.queuedWaiters = [];
        try {
          await this.file.appendFile(lines.join(''));
          await this.file.datasync();
          for (const w of waiters) w.resolve();
        } catch (error) {
          for (const w of waiters) w.reject(error);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async truncateWhenIdle(): Promise<void> {
    while (this.flushing) await this.flushing;
    // Entries appended while we waited keep the file as it is.
    if (this.entries.size > 0 || this.queuedLines.length > 0 || this.closed) return;
    await this.file.truncate(0);
    await this.file.datasync();
  }
}

/** Reads the records that are intact; stops at the first line that is torn or fails its checksum. */
function readLog(filePath: string): { pending: WalEntry[]; goodBytes: number; totalBytes: number; maxId: number } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(filePath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { pending: [], goodBytes: 0, totalBytes: 0, maxId: 0 };
    throw error;
  }
  const entries = new Map<number, WalEntry>();
  let maxId = 0;
  let offset = 0;
  while (offset < bytes.length) {
    const end = bytes.indexOf(0x0a, offset);
    if (end < 0) break;
    const record = parseLine(bytes.toString('utf8', offset, end));
    if (!record) break;
    if ('e' in record) {
      entries.set(record.e.id, record.e);
      maxId = Math.max(maxId, record.e.id);
    } else {
      entries.delete(record.c);
    }
    offset = end + 1;
  }
  const pending = [...entries.values()].sort((a, b) => a.id - b.id);
  return { pending, goodBytes: offset, totalBytes: bytes.length, maxId };
}

function parseLine(line: string): Record | undefined {
  const space = line.indexOf(' ');
  if (space !== 8) return undefined;
  const json = line.slice(9);
  if (crc32(json).toString(16).padStart(8, '0') !== line.slice(0, 8)) return undefined;
  try {
    return JSON.parse(json) as Record;
  } catch {
    return undefined;
  }
}

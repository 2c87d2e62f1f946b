/**
 * A per-service lock file, so that two `up`s (say, two vitest workers calling ensureServices at
 * once) do not both install or start the same service. The holder writes its own pid record;
 * a lock whose holder is dead is taken over, so a crashed run never blocks the next one.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceError, ServicesErrorCodes } from './error-codes.js';
import { isAlive, pidRecordFor, readPidFile, writePidFile } from './process.js';

export async function withLock<T>(service: string, lockFile: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (tryAcquire(lockFile)) break;
    if (Date.now() >= deadline) {
      const holder = readPidFile(lockFile);
      throw serviceError(
        ServicesErrorCodes.LOCK_TIMEOUT,
        service,
        `another process (pid ${holder?.pid ?? '?'}) held ${lockFile} for more than ${Math.round(timeoutMs / 1000)}s`,
      );
    }
    await sleep(250);
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

function tryAcquire(lockFile: string): boolean {
  try {
    // 'wx' fails if the file exists: creation is the atomic test-and-set.
    const fd = fs.openSync(lockFile, 'wx');
    fs.closeSync(fd);
    writePidFile(lockFile, pidRecordFor(process.pid));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const holder = readPidFile(lockFile);
  // No readable holder yet may mean it is between create and write: treat as held, unless
  // the file is old enough that the writer must have died in between.
  if (holder ? !isAlive(holder) : isStale(lockFile)) {
    fs.rmSync(lockFile, { force: true });
  }
  return false;
}

function isStale(lockFile: string): boolean {
  try {
    return Date.now() - fs.statSync(lockFile).mtimeMs > 5_000;
  } catch {
    return false;
  }
}

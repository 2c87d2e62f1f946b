/**
 * Process helpers: start a detached server with its output in a log file, record it in a pid
 * file, tell whether that recorded process is still the one we started, stop it by pid, and
 * wait on TCP ports.
 *
 * A pid file holds "<pid> <start time> <port>" ("-" for an unknown field). The start time (from /proc/<pid>/stat, in clock ticks
 * since boot) guards against pid reuse: after a reboot or a long time, the same pid may belong
 * to an unrelated process, and `down` must never signal that one.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LaunchSpec {
  command: string;
  args: string[];
  cwd: string;
  /** Added to (and overriding) the current environment. */
  env?: Record<string, string>;
}

export interface PidRecord {
  pid: number;
  /** Start time in clock ticks since boot, or undefined where /proc is unavailable. */
  startTime: number | undefined;
  /** The port the process was started on, so a later `up` with other settings notices. */
  port?: number | undefined;
}

/** Spawns `spec` in its own process group, detached from us, stdout+stderr appended to logFile. */
export function spawnDetached(spec: LaunchSpec, logFile: string): number {
  const fd = fs.openSync(logFile, 'a');
  try {
    fs.writeSync(fd, `\n=== ${new Date().toISOString()} starting: ${spec.command} ${spec.args.join(' ')}\n`);
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    // An ENOENT from spawn arrives as an 'error' event; without a listener it would crash us.
    // The caller notices the missing process through the pid check instead.
    child.on('error', () => {});
    child.unref();
    if (child.pid === undefined) throw new Error(`could not spawn ${spec.command}`);
    return child.pid;
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads /proc/<pid>/stat: state letter and start time. undefined if the process is gone. */
function procStat(pid: number): { state: string; startTime: number } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: field 3 (state) is index 0, field 22 (starttime) is index 19.
  return { state: fields[0] ?? '?', startTime: Number(fields[19]) };
}

const hasProc = fs.existsSync('/proc/self/stat');

export function pidRecordFor(pid: number, port?: number): PidRecord {
  return { pid, startTime: hasProc ? procStat(pid)?.startTime : undefined, port };
}

export function writePidFile(file: string, record: PidRecord): void {
  fs.writeFileSync(file, `${record.pid} ${record.startTime ?? '-'} ${record.port ?? '-'}\n`);
}

export function readPidFile(file: string): PidRecord | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const [pidText, startText, portText] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { pid, startTime: optionalNumber(startText), port: optionalNumber(portText) };
}

function optionalNumber(text: string | undefined): number | undefined {
  const value = Number(text);
  return text === undefined || text === '-' || !Number.isFinite(value) ? undefined : value;
}

/** True while the recorded process exists, is not a zombie, and is the same process we started. */
export function isAlive(record: PidRecord): boolean {
  if (hasProc) {
    const stat = procStat(record.pid);
    if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
    return record.startTime === undefined || stat.startTime === record.startTime;
  }
  try {
    process.kill(record.pid, 0);
    return true;
  } catch {
    // ESRCH: gone. EPERM: it belongs to another user, so it cannot be the one we started.
    return false;
  }
}

/** The live process recorded in pidFile, or undefined (a stale pid file is removed). */
export function runningProcess(pidFile: string): PidRecord | undefined {
  const record = readPidFile(pidFile);
  if (!record) return undefined;
  if (isAlive(record)) return record;
  fs.rmSync(pidFile, { force: true });
  return undefined;
}

export type StopOutcome = 'not-running' | 'terminated' | 'killed';

/**
 * Stops the process recorded in pidFile: SIGTERM, then SIGKILL after graceMs. Only that pid is
 * signalled, never a name pattern. `stillAlive` is true only if even SIGKILL did not end it.
 */
export async function stopRecorded(pidFile: string, graceMs: number): Promise<{ outcome: StopOutcome; pid?: number; stillAlive: boolean }> {
  const record = runningProcess(pidFile);
  if (!record) return { outcome: 'not-running', stillAlive: false };
  signal(record.pid, 'SIGTERM');
  if (await waitUntilDead(record, graceMs)) {
    fs.rmSync(pidFile, { force: true });
    return { outcome: 'terminated', pid: record.pid, stillAlive: false };
  }
  signal(record.pid, 'SIGKILL');
  const dead = await waitUntilDead(record, 5_000);
  if (dead) fs.rmSync(pidFile, { force: true });
  return { outcome: 'killed', pid: record.pid, stillAlive: !dead };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

async function waitUntilDead(record: PidRecord, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(record)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

/** One TCP connection attempt; resolves true if something accepts on host:port. */
export function canConnect(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * The last `lines` lines of a log file written at or after byte `fromOffset` (so an error quotes
 * this run, not an earlier one), each cut to a readable width. Empty if it cannot be read.
 */
export function tailFile(file: string, lines = 20, fromOffset = 0): string {
  // Read only the end: a Cassandra log grows by megabytes across restarts.
  const maxBytes = 64 * 1024;
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const start = Math.max(fromOffset, size - maxBytes, 0);
    const buffer = Buffer.alloc(Math.max(0, size - start));
    fs.readSync(fd, buffer, 0, buffer.length, start);
    return buffer
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((line) => (line.length > 300 ? `${line.slice(0, 300)}…` : line))
      .join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

import { readFileSync } from 'node:fs';
import path from 'node:path';

/** CPU time (user + system, ms) a process has used so far, from /proc; undefined when it cannot be read (gone, not Linux). */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** The pid of a local service started by `npm run services` (its pid file holds "<pid> <start ticks> <port>"). */
export function localServicePid(name: 'cassandra' | 'redis'): number | undefined {
  try {
    return Number(
      readFileSync(path.join('.services', name, `${name}.pid`), 'utf8')
        .trim()
        .split(/\s+/)[0],
    );
  } catch {
    return undefined;
  }
}

/** CPU ms of this process so far (the load driver's own share). */
export function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

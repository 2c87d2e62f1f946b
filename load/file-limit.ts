import { readFileSync } from 'node:fs';

/** File descriptors a process needs besides its sockets (modules, logs, the embedded server's files). */
const SPARE_DESCRIPTORS = 256;

/** The soft limit on open files, from /proc (Linux); undefined where it cannot be read. */
export function openFileSoftLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

/**
 * Node cannot raise its own descriptor limit, so `npm run load` raises the soft limit to the hard
 * one in its shell wrapper; this says what to do when even that is too low for the run (the
 * embedded target holds a socket per device too, so it counts twice).
 */
export function raiseOpenFileLimitHint(connections: number): string | undefined {
  const limit = openFileSoftLimit();
  const needed = connections * 2 + SPARE_DESCRIPTORS;
  if (limit === undefined || limit >= needed) return undefined;
  return `open-file limit is ${limit}, this run may need ~${needed}: raise it (ulimit -n ${needed}; hard limit: /etc/security/limits.conf or the container's nofile)`;
}

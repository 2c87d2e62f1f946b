import type { Logger } from '../../ports/logger.js';

/** One JSON line per entry on stderr (stdout stays free for command output). */
export function consoleLogger(component: string, minLevel: 'info' | 'warn' | 'error' = 'info'): Logger {
  const order = { info: 0, warn: 1, error: 2 } as const;
  const write = (level: keyof typeof order) => (message: string, fields?: Record<string, unknown>) => {
    if (order[level] < order[minLevel]) return;
    process.stderr.write(`${JSON.stringify({ t: new Date().toISOString(), level, component, message, ...fields })}\n`);
  };
  return { info: write('info'), warn: write('warn'), error: write('error') };
}

/**
 * Redis 7 from Debian's redis-server package, run as our own foreground process on a private
 * port. The package's own system service (port 6379), if the package started one, is left alone.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { HOST } from './config.js';
import { ensureCommand } from './install.js';
import type { ServiceDefinition } from './service.js';

export const redis: ServiceDefinition = {
  name: 'redis',
  port: (config) => config.redis.port,
  startTimeoutMs: 20_000,
  stopGraceMs: 10_000,

  async install(ctx) {
    await ensureCommand('redis', 'redis-server', 'redis-server', ctx.installLog);
  },

  async prepare(ctx) {
    const dataDir = path.join(ctx.dir, 'data');
    fs.mkdirSync(dataDir, { recursive: true });
    return {
      command: 'redis-server',
      args: redisArgs(ctx.config.redis.port, dataDir),
      cwd: dataDir,
    };
  },

  async health(ctx) {
    const reply = await redisCommand(ctx.config.redis.port, 'PING');
    if (reply !== '+PONG') throw new Error(`PING answered ${JSON.stringify(reply)}`);
    return 'PONG';
  },
};

/** Command line: a pure cache for tests, so no RDB snapshots and no AOF. */
export function redisArgs(port: number, dataDir: string): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    // Where a manual SAVE would write; keeps even that inside .services.
    '--dir',
    dataDir,
    '--logfile',
    '',
  ];
}

/** Sends one inline command and returns the first reply line, without needing redis-cli. */
function redisCommand(port: number, command: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    let buffer = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no reply within ${timeoutMs}ms`)));
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      const end = buffer.indexOf('\r\n');
      if (end >= 0) {
        socket.end();
        resolve(buffer.slice(0, end));
      }
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('connection closed before a reply')));
  });
}

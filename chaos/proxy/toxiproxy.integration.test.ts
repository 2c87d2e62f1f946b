/**
 * The real toxiproxy (built on demand with go install, like the drills do) between a client and a
 * small TCP echo server: bytes pass, each partition mode cuts the link as documented, and a heal
 * restores it on the same address.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LinkAddress } from './fault-proxy.js';
import { Toxiproxy } from './toxiproxy.js';

/** Sends one line and resolves with the echo, or with an error name when the link fails first. */
function roundTrip(address: LinkAddress, text: string, giveUpMs = 1_500): Promise<string> {
  return new Promise((resolve) => {
    const socket: Socket = createConnection(address);
    let answer = '';
    const finish = (result: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish('no answer'), giveUpMs);
    socket.on('connect', () => socket.write(`${text}\n`));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.endsWith('\n')) finish(answer.trim());
    });
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? 'error'));
    socket.on('close', () => finish(answer === '' ? 'closed' : answer.trim()));
  });
}

describe('toxiproxy fault proxy', () => {
  let echo: Server;
  let proxy: Toxiproxy;
  let link: LinkAddress;

  beforeAll(async () => {
    // The proxy resets and drops connections on purpose: the echo side ignores those errors.
    echo = createServer((socket) => {
      socket.on('error', () => {});
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const upstream = { host: '127.0.0.1', port: (echo.address() as { port: number }).port };
    proxy = await Toxiproxy.start({ logFile: path.join(os.tmpdir(), `toxiproxy-test-${process.pid}.log`) });
    link = await proxy.addLink('redis', upstream);
  }, 600_000);

  afterAll(async () => {
    await proxy?.close();
    echo?.close();
  });

  it('passes bytes through, and heals every partition mode on the same address', async () => {
    expect(await roundTrip(link, 'hello')).toBe('hello');

    await proxy.partition('redis', 'refuse');
    expect(['ECONNREFUSED', 'ECONNRESET', 'closed']).toContain(await roundTrip(link, 'refused?'));
    await proxy.heal('redis');
    expect(await roundTrip(link, 'back')).toBe('back');

    await proxy.partition('redis', 'reset');
    expect(['ECONNRESET', 'closed']).toContain(await roundTrip(link, 'reset?'));
    await proxy.heal('redis');
    expect(await roundTrip(link, 'back again')).toBe('back again');

    await proxy.partition('redis', 'blackhole');
    expect(await roundTrip(link, 'lost', 800)).toBe('no answer');
    await proxy.heal('redis', { dropConnections: true });
    expect(await roundTrip(link, 'after blackhole')).toBe('after blackhole');
  });

  it('delays a round trip by at least the added latency, and heals', async () => {
    await proxy.degrade('redis', { latencyMs: 300 });
    const started = performance.now();
    expect(await roundTrip(link, 'slow', 5_000)).toBe('slow');
    // A lower bound only: the toxic must hold the bytes at least this long.
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    await proxy.heal('redis');
    expect(await roundTrip(link, 'fast')).toBe('fast');
  });
});

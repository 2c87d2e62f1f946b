import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStep } from './autocannon-step.js';

/*
 * An upload step walks a pool of write-once URLs, one per request. The server here stands in for
 * the blob store: 200 the first time a path is PUT, 412 after, as a content-bound upload URL.
 */

let server: Server;
let baseUrl: string;
const putsByPath = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '/';
      const puts = (putsByPath.get(path) ?? 0) + 1;
      putsByPath.set(path, puts);
      res.writeHead(puts === 1 ? 200 : 412, { 'content-length': 0 });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const step = { method: 'PUT' as const, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(64, 1) };

describe('runStep with a URL per request', () => {
  it('sends each URL of the pool once, in all as many requests as URLs, and ends when they are used up', async () => {
    const pool = Array.from({ length: 60 }, (_, i) => `${baseUrl}/media/pool-a/${i}?sig=${i}`);
    const figures = await runStep(step, { url: pool[0]!, urlPerRequest: pool }, { connections: 4, durationS: 10 });
    expect(figures.requests).toBe(60);
    expect(figures.failures).toBe(0);
    expect(figures.durationS).toBeLessThan(10);
    for (const url of pool) expect(putsByPath.get(new URL(url).pathname + new URL(url).search)).toBe(1);
  });

  it('counts a non-2xx answer as a failure', async () => {
    const reused = `${baseUrl}/media/pool-b/0`;
    const figures = await runStep(
      step,
      { url: reused, urlPerRequest: Array.from({ length: 12 }, () => reused) },
      { connections: 2, durationS: 10 },
    );
    expect(figures.requests).toBe(12);
    expect(figures.failures).toBe(11);
  });

  it('refuses a pool smaller than the connections (autocannon would leave a connection unbounded)', async () => {
    await expect(runStep(step, { url: baseUrl, urlPerRequest: [`${baseUrl}/x`] }, { connections: 2, durationS: 1 })).rejects.toThrow(
      /fewer than the 2 connections/,
    );
  });
});

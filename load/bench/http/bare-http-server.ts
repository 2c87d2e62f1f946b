/**
 * The baseline for `npm run bench:http`: a bare Node HTTP server that reads the request body and
 * answers 200 with `n` bytes for any method on `/bytes/<n>`: no routing, auth, signing, storage
 * or JSON. Each step of the benchmark sends it the same requests as the gateway, asking for a
 * response as large as the gateway's, so the gap between the two is the gateway's own work.
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 0);
const bodies = new Map<number, Buffer>();

function bodyOf(bytes: number): Buffer {
  let body = bodies.get(bytes);
  if (!body) bodies.set(bytes, (body = Buffer.alloc(bytes, 'x')));
  return body;
}

const server = createServer((req, res) => {
  const bytes = Number(/^\/bytes\/(\d+)/.exec(req.url ?? '')?.[1] ?? 0);
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes });
    res.end(bodyOf(bytes));
  });
});
server.listen(port, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  // The READY line startChildServer waits for; wsUrl is unused (there is no WebSocket here).
  const httpUrl = `http://127.0.0.1:${address.port}`;
  process.stdout.write(`READY ${JSON.stringify({ wsUrl: `ws://127.0.0.1:${address.port}/`, httpUrl, pid: process.pid })}\n`);
});
process.on('SIGTERM', () => process.exit(0));

/**
 * The baseline: a bare `ws` relay with no auth, storage, ordering or receipts. Each client
 * connects with ?id=NAME; a text frame {"to": NAME, ...} is forwarded as-is to that client, and
 * {"toAll": [NAME, ...], ...} to each listed client.
 * The benchmark divides the reference system's figures by this one's, measured in the same run.
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.argv[2] ?? 0);
const clients = new Map<string, WebSocket>();
const server = createServer();
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? '';
  clients.set(id, ws);
  ws.on('message', (data) => {
    const text = data.toString();
    const { to, toAll } = JSON.parse(text) as { to?: string; toAll?: string[] };
    // {"toAll": [...]} is the group baseline: the relay fans the frame out itself.
    for (const name of toAll ?? (to === undefined ? [] : [to])) clients.get(name)?.send(text);
  });
  ws.on('close', () => {
    if (clients.get(id) === ws) clients.delete(id);
  });
});
server.listen(port, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`READY ${JSON.stringify({ wsUrl: `ws://127.0.0.1:${address.port}/`, pid: process.pid })}\n`);
});
process.on('SIGTERM', () => process.exit(0));

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChatError, isChatError } from '../core/errors.js';
import type { ChatCore } from '../services/chat-core.js';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface HttpServerOptions {
  core: ChatCore;
  /** Serve POST /dev/token (development and embedded worlds only: it issues tokens to anyone). */
  devTokens: boolean;
  /** Renders /metrics, when metrics are exported. */
  renderMetrics?: () => Promise<{ contentType: string; body: string }>;
  /** Extra routes tried first (e.g. the embedded media endpoint). */
  extraHandlers?: HttpHandler[];
  isReady?: () => boolean;
}

const DEV_TOKEN_BODY_BYTES_MAX = 4096;

/** The gateway's HTTP side: health, metrics, dev tokens, embedded media; WebSockets attach to it. */
export function createHttpServer(options: HttpServerOptions): Server {
  return createServer((req, res) => {
    void route(options, req, res).catch((error: unknown) => {
      options.core.deps.log.error('http handler failed', { url: req.url, error: String(error) });
      if (!res.headersSent) json(res, 500, { code: 'INTERNAL', message: 'internal error' });
    });
  });
}

async function route(options: HttpServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  for (const handler of options.extraHandlers ?? []) if (await handler(req, res)) return;
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method === 'GET' && path === '/healthz') {
    const ready = options.isReady?.() ?? true;
    return json(res, ready ? 200 : 503, { status: ready ? 'ok' : 'shutting_down', nodeId: options.core.deps.nodeId });
  }
  if (req.method === 'GET' && path === '/metrics' && options.renderMetrics) {
    const { contentType, body } = await options.renderMetrics();
    res.writeHead(200, { 'content-type': contentType });
    res.end(body);
    return;
  }
  if (req.method === 'POST' && path === '/dev/token' && options.devTokens) return issueDevToken(options.core, req, res);
  json(res, 404, { code: 'NOT_FOUND', message: `no route ${req.method} ${path}` });
}

/** POST /dev/token {"userId","deviceId","ttlMs"?} → {"token","expiresAtMs"} */
async function issueDevToken(core: ChatCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body: { userId?: unknown; deviceId?: unknown; ttlMs?: unknown };
  try {
    body = JSON.parse(await readBody(req, DEV_TOKEN_BODY_BYTES_MAX));
  } catch {
    return json(res, 400, { code: 'BAD_FRAME', message: 'body must be JSON {"userId","deviceId"}' });
  }
  try {
    if (typeof body.userId !== 'string' || typeof body.deviceId !== 'string') throw new ChatError('INVALID_FIELD', 'userId and deviceId are required strings');
    const ttlMs = typeof body.ttlMs === 'number' && body.ttlMs > 0 ? body.ttlMs : undefined;
    const { token, claims } = core.auth.issueToken({ userId: body.userId, deviceId: body.deviceId }, ttlMs);
    json(res, 200, { token, expiresAtMs: claims.expiresAtMs });
  } catch (error) {
    if (!isChatError(error)) throw error;
    json(res, 400, { code: error.code, message: error.message });
  }
}

function readBody(req: IncomingMessage, bytesMax: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > bytesMax) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

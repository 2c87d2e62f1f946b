import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isChatError } from '../core/errors.js';
import type { ChatCore } from '../services/chat-core.js';
import { parseDevTokenRequest } from './dev-token-request.js';

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
  const text = await readBody(req, DEV_TOKEN_BODY_BYTES_MAX);
  if (text === undefined) {
    // Answered, not dropped: the client learns why. The rest of the body is read and discarded.
    return json(res, 400, { code: 'BAD_FRAME', message: `body is larger than ${DEV_TOKEN_BODY_BYTES_MAX} bytes` }, { connection: 'close' });
  }
  try {
    const request = parseDevTokenRequest(text, core.deps.limits);
    const { token, claims } = await core.auth.issueToken({ userId: request.userId, deviceId: request.deviceId }, request.ttlMs);
    json(res, 200, { token, expiresAtMs: claims.expiresAtMs });
  } catch (error) {
    if (!isChatError(error)) throw error;
    json(res, 400, { code: error.code, message: error.message });
  }
}

/** The request body as text, or undefined when it is longer than bytesMax (its rest is discarded). */
function readBody(req: IncomingMessage, bytesMax: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > bytesMax) {
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(size > bytesMax ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
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

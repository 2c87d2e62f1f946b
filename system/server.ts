import type { Server } from 'node:http';
import type { WebSocketServer } from 'ws';
import { attachWebSockets } from './gateway/ws-gateway.js';
import { createHttpServer, listen, type HttpHandler } from './gateway/http-server.js';
import type { GatewayNode } from './gateway/gateway-node.js';

export interface ServerOptions {
  node: GatewayNode;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  devTokens?: boolean;
  renderMetrics?: () => Promise<{ contentType: string; body: string }>;
  extraHandlers?: HttpHandler[];
  /** Called with the bound HTTP base URL before the server accepts traffic (e.g. to sign media URLs). */
  onBaseUrl?: (httpUrl: string) => void;
}

export interface RunningServer {
  /** WebSocket URL clients connect to. */
  wsUrl: string;
  httpUrl: string;
  port: number;
  server: Server;
  /** Graceful: stop accepting, goaway, drain in-flight requests, close connections and the port. */
  close(): Promise<void>;
}

/** Serves one gateway node over HTTP + WebSocket on one port. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { node } = options;
  const httpOptions = {
    core: node.core,
    devTokens: options.devTokens ?? false,
    extraHandlers: options.extraHandlers ?? [],
    isReady: () => node.isAccepting,
    ...(options.renderMetrics ? { renderMetrics: options.renderMetrics } : {}),
  };
  const server = createHttpServer(httpOptions);
  const wss = attachWebSockets(server, node);
  const host = options.host ?? '127.0.0.1';
  const address = await listen(server, options.port ?? 0, host);
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const httpUrl = `http://${hostPart}:${address.port}`;
  options.onBaseUrl?.(httpUrl);
  let closing: Promise<void> | undefined;
  return {
    wsUrl: `ws://${hostPart}:${address.port}/ws`,
    httpUrl,
    port: address.port,
    server,
    close() {
      closing ??= (async () => {
        await node.shutdown();
        // The goaway and close frames are still on their way (in socket buffers): let the closing
        // handshakes finish (bounded) before cutting off whoever did not answer.
        await closingHandshakes(wss, CLOSE_HANDSHAKE_WAIT_MS);
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}

/** How long a graceful close waits for clients to answer the close frame before terminating them. */
const CLOSE_HANDSHAKE_WAIT_MS = 1_000;

/** Resolves when every client connection has closed, or after timeoutMs. */
function closingHandshakes(wss: WebSocketServer, timeoutMs: number): Promise<void> {
  const open = [...wss.clients];
  if (open.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    let pending = open.length;
    const timer = setTimeout(resolve, timeoutMs);
    for (const client of open) {
      client.once('close', () => {
        if (--pending > 0) return;
        clearTimeout(timer);
        resolve();
      });
    }
  });
}

import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { TokenBucket } from '../core/token-bucket.js';
import type { TimerHandle } from '../ports/clock.js';
import { CloseCodes } from '../protocol/version.js';
import type { GatewayNode } from './gateway-node.js';
import { TurnBudgetQueue } from './turn-budget-queue.js';
import { WsConnection } from './ws-connection.js';

export interface WsGatewayOptions {
  /** Path clients connect to. */
  path?: string;
}

/**
 * Binds a GatewayNode to WebSocket upgrades on an HTTP server. Everything protocol-related is in
 * the session; this file only moves text between sockets and sessions.
 */
export function attachWebSockets(server: Server, node: GatewayNode, options: WsGatewayOptions = {}): WebSocketServer {
  const path = options.path ?? '/ws';
  const { limits } = node.core.deps;
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    // Frames between frameBytesMax and twice that get a FRAME_TOO_LARGE error frame from the
    // session; anything larger is cut off by ws itself (close 1009) before it is buffered.
    maxPayload: limits.frameBytesMax * 2,
  });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    if (!node.isAccepting) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => bindSession(node, ws, socket));
  });
  return wss;
}

function bindSession(node: GatewayNode, ws: WebSocket, socket: Socket): void {
  const connection = new WsConnection(node.nextConnectionId(), ws, socket);
  const session = node.openSession(connection);
  socket.setNoDelay(true);
  const { limits } = node.core.deps;
  // Everything the client causes goes through one queue: its frames and its close keep their
  // order, and a turn of the event loop runs only a budget of them before other sockets' input.
  const inbound = new TurnBudgetQueue(
    { itemsPerTurnMax: limits.connectionFramesPerTurnMax, turnMsMax: limits.connectionTurnMsMax },
    { backlogged: () => connection.holdForBacklog(true), caughtUp: () => connection.holdForBacklog(false) },
  );
  // Bytes are budgeted per connection too: frames near frameBytesMax cost the process far more to
  // receive and check than the frame limit suggests, so a connection past its byte budget is not
  // read until the budget refills.
  const bytes = new TokenBucket(node.core.deps.clock, limits.connectionInboundBytesPerSecond, limits.connectionInboundBurstBytes);
  let byteHold: TimerHandle | undefined;
  ws.on('message', (data, isBinary) => {
    const waitMs = bytes.spend(Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength);
    if (waitMs > 0 && !byteHold) {
      connection.holdForByteBudget(true);
      byteHold = node.core.deps.clock.setTimer(waitMs, () => {
        byteHold = undefined;
        connection.holdForByteBudget(false);
      });
    }
    if (isBinary) {
      inbound.push(() => session.handleBinary());
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
    // Time spent waiting for the connection's turn counts as queueing for admission control.
    const receivedAtMs = node.core.deps.clock.nowMs();
    inbound.push(() => session.handleText(text, receivedAtMs));
  });
  socket.on('drain', () => session.handleWritable());
  ws.on('close', (code) => {
    byteHold?.cancel();
    const reason = code === CloseCodes.NORMAL || code === 1005 ? 'client_closed' : `closed_${code}`;
    inbound.push(() => session.handleClose(reason));
  });
  ws.on('error', () => inbound.push(() => session.handleClose('socket_error')));
}

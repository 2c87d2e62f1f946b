import type { ConversationId, Seq } from '../system/core/ids.js';
import type { Clock } from '../system/ports/clock.js';
import type { Random } from '../system/ports/random.js';
import { clientCoreConfig } from './core/config.js';
import type { ClientCoreConfig } from './core/ports.js';
import type { HistorySink } from './history-recorder.js';
import { realClock } from './real-clock.js';
import { cryptoRandom } from './real-random.js';
import type { TransportFactory } from './transport.js';
import { wsTransportFactory } from './ws-transport.js';

export interface ChatClientOptions {
  /** Gateway WebSocket URLs. The first is tried first; each reconnect moves to the next. */
  urls: readonly string[];
  /** A bearer token, or a function fetching a fresh one before every connection attempt. */
  token: string | (() => Promise<string>);
  /** Time source and timers (default: real time, unref'd timers). */
  clock?: Clock;
  /** Jitter and client message ids (default: crypto). */
  random?: Random;
  /** Creates one transport per connection attempt (default: `ws`). */
  transportFactory?: TransportFactory;
  /** Records what this client observes, for the invariant checker. */
  history?: HistorySink;
  /** Per-conversation cursors from a previous run of this device (see getCursors()). */
  cursors?: Readonly<Record<ConversationId, Seq>>;
  /**
   * The server log incarnation those cursors belong to (`incarnation` of a previous run). When the
   * first welcome names another one, the cursors are dropped (the 'reset' event).
   */
  incarnation?: string;
  /** Prefix of generated client message ids until the server has told us our device id. */
  deviceId?: string;
  /** Acknowledge every event handed to the app (default true). */
  autoAck?: boolean;
  /** Re-send an unacknowledged message after this long (default 5000). */
  sendTimeoutMs?: number;
  /** Reject a request with TIMEOUT after this long (default 10000). */
  requestTimeoutMs?: number;
  /** Give up one connection attempt (open + auth) after this long (default 10000). */
  connectTimeoutMs?: number;
  /** Reconnect backoff bounds (defaults 250 and 15000). */
  reconnectMinDelayMs?: number;
  reconnectMaxDelayMs?: number;
  /**
   * Longest wait before re-sending a message the server refused for now (OVERLOADED, RATE_LIMITED, …;
   * default 5000): repeated refusals back off exponentially from reconnectMinDelayMs up to this, and
   * never sooner than the server's hint.
   */
  sendRetryMaxDelayMs?: number;
  /** Consecutive failed connection attempts before giving up for good (default unlimited). */
  maxReconnectAttempts?: number;
  /**
   * Drop the connection as dead when no frame arrived for this long (default 2.5 heartbeat
   * intervals: the server answers every heartbeat). 0 disables the check.
   */
  idleTimeoutMs?: number;
  /** Wait before retrying a sync that failed retryably (default 1000, or the server's hint). */
  syncRetryDelayMs?: number;
  /** Validate every server frame against the protocol schemas (default true; load runs may skip). */
  validateFrames?: boolean;
}

/** The options with their defaults: the client core's configuration, and the ports ChatClient wires it to. */
export interface ResolvedOptions extends ClientCoreConfig {
  token: string | (() => Promise<string>);
  clock: Clock;
  random: Random;
  transportFactory: TransportFactory;
}

let defaultTransportFactory: TransportFactory | undefined;

export function resolveOptions(options: ChatClientOptions): ResolvedOptions {
  if (options.urls.length === 0) throw new TypeError('ChatClient needs at least one gateway url');
  return {
    ...clientCoreConfig({
      urls: [...options.urls],
      history: options.history,
      deviceId: options.deviceId,
      autoAck: options.autoAck,
      sendTimeoutMs: options.sendTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      reconnectMinDelayMs: options.reconnectMinDelayMs,
      reconnectMaxDelayMs: options.reconnectMaxDelayMs,
      sendRetryMaxDelayMs: options.sendRetryMaxDelayMs,
      maxReconnectAttempts: options.maxReconnectAttempts,
      idleTimeoutMs: options.idleTimeoutMs,
      syncRetryDelayMs: options.syncRetryDelayMs,
      validateFrames: options.validateFrames,
      tokenRefreshes: typeof options.token === 'function',
    }),
    token: options.token,
    clock: options.clock ?? realClock,
    random: options.random ?? cryptoRandom,
    transportFactory: options.transportFactory ?? (defaultTransportFactory ??= wsTransportFactory()),
  };
}

import type { TimerHandle } from '../../system/ports/clock.js';
import type { ClientFrame, ServerFrameOf } from '../../system/protocol/frames.js';
import { CloseCodes, PROTOCOL_VERSION } from '../../system/protocol/version.js';
import { backoffDelayMs } from '../backoff.js';
import { ChatClientError, type ChatClientErrorCode } from '../errors.js';
import { recordConnection } from './device-history.js';
import { GatewayRotation } from './gateway-rotation.js';
import type { ClientCoreConfig, ClientCoreHost, ConnectionState, DeviceAddress, WelcomeInfo } from './ports.js';

/** Close codes after which reconnecting cannot help (someone else's decision, or our identity is gone). */
const FATAL_CLOSE_CODES: ReadonlyMap<number, ChatClientErrorCode> = new Map<number, ChatClientErrorCode>([
  [CloseCodes.AUTH_FAILED, 'TOKEN_INVALID'],
  [CloseCodes.DEVICE_UNLINKED, 'DEVICE_UNKNOWN'],
  [CloseCodes.REPLACED, 'CLOSED'],
]);

/**
 * A welcomed connection that ends sooner than this counts as a flap: the next reconnect backs off
 * further instead of starting over, so a node that accepts and then drops clients is not hammered.
 */
const STABLE_CONNECTION_MS = 10_000;

/** Default idle timeout, in heartbeat intervals (the server's own zombie timeout is 2.5). */
const IDLE_TIMEOUT_HEARTBEATS = 2.5;

/**
 * The connection lifecycle of the client core, sans I/O: connection attempts and the auth
 * handshake, the connect timeout, heartbeats at the welcome's interval and dead-connection
 * detection, reconnects with jittered backoff (flaps back off further), `goaway` (wait for its
 * hint, then move, to the gateways it lists first), fatal close codes, suspending and stopping.
 * ClientCore (client-core.ts) adds what flows over a connection; the hooks below are where the
 * two meet. One class in two files: no object of its own per device.
 */
export abstract class ClientConnection {
  protected stateValue: ConnectionState = 'idle';
  /** Bumped whenever the current connection is abandoned: its late callbacks are ignored. */
  protected generation = 0;
  /**
   * Who this device is, from the last welcome. The welcome itself is not kept (it carries a copy
   * of every server limit): only what the core reads of it.
   */
  protected device: DeviceAddress | undefined;
  /** The last welcome's frameBytesMax (undefined: the server named none). */
  protected frameBytesMax: number | undefined;
  private heartbeatIntervalMs = 0;
  protected lastFrameAtMs = 0;
  protected everConnected = false;
  /** This connection's `connect` is in the history (see heartbeatAcknowledged). */
  private connectRecorded = false;
  /** Consecutive failed connection attempts. */
  private failures = 0;
  /** Consecutive connections that ended before STABLE_CONNECTION_MS. */
  private flaps = 0;
  private connectedAtMs = 0;
  private connectTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private goawayTimer: TimerHandle | undefined;
  /** Set by `goaway`: the next reconnect waits until then instead of backing off. */
  private reconnectNotBeforeMs: number | undefined;
  /** Attempts made so far (the host routes attempt n when there are no URLs). */
  private attempts = 0;
  /** Made on first use: only when there are URLs (or a goaway named some). */
  private rotation: GatewayRotation | undefined;

  constructor(
    protected readonly host: ClientCoreHost,
    protected readonly config: ClientCoreConfig,
  ) {}

  // ---------- hooks for what flows over the connection ----------

  /** A welcome arrived: restore what the server keeps per connection, catch up, tell the host. */
  protected abstract connectionRestored(welcome: WelcomeInfo): void;
  /** A welcomed connection ended: what was in flight on it is moot. */
  protected abstract connectionForgotten(code: number, reason: string): void;
  /** The client stops for good: fail what waits (requests, sends) with `error`. */
  protected abstract abandonAll(error: ChatClientError): void;

  // ---------- state ----------

  get state(): ConnectionState {
    return this.stateValue;
  }

  get isConnected(): boolean {
    return this.stateValue === 'connected';
  }

  /** The id of the current connection attempt: the host passes it back with what the connection reports. */
  get connectionId(): number {
    return this.generation;
  }

  // ---------- what the app does ----------

  /** Starts connecting (from idle); reconnects by itself from then on. */
  connect(): void {
    if (this.stateValue === 'idle') this.startAttempt();
  }

  /**
   * Stops for good: closes the connection, cancels every timer, fails requests and sends with
   * `error`. report: also hand `error` to host.error (not for the app's own close()).
   */
  close(error: ChatClientError, report: boolean): void {
    if (this.stateValue === 'closed') return;
    const wasConnected = this.stateValue === 'connected';
    this.stateValue = 'closed';
    this.dropConnection(1000, 'client closed');
    this.cancelRetryTimers();
    this.abandonAll(error);
    this.host.stopped(error);
    if (wasConnected) this.noteDisconnected(1000, error.message, false);
    if (report) this.host.error(error);
  }

  /**
   * The app goes offline and keeps its state (save() it, or connect() again later): the connection
   * is closed and no reconnect follows; unsent messages stay in the outbox.
   */
  suspend(): void {
    if (this.stateValue === 'closed') return;
    const wasConnected = this.stateValue === 'connected';
    this.stateValue = 'idle';
    this.dropConnection(1000, 'client closed');
    this.cancelRetryTimers();
    this.reconnectNotBeforeMs = undefined;
    if (wasConnected) this.noteDisconnected(1000, 'client closed', false);
  }

  // ---------- what the host's connection reports ----------

  /** The host's connection `connectionId` is open, and `token` is ours: authenticate. */
  connectionOpened(connectionId: number, token: string): void {
    if (connectionId !== this.generation || this.stateValue !== 'connecting') return;
    this.stateValue = 'authenticating';
    this.writeFrame({ type: 'auth', v: PROTOCOL_VERSION, token });
  }

  /** The host could not open connection `connectionId` (or get a token for it). */
  connectionFailed(connectionId: number, error: ChatClientError): void {
    if (connectionId === this.generation && (this.stateValue === 'connecting' || this.stateValue === 'authenticating'))
      this.attemptFailed(error);
  }

  /** Connection `connectionId` ended (server close, network, crash). */
  connectionClosed(connectionId: number, code: number, reason: string): void {
    if (connectionId !== this.generation) return;
    if (this.stateValue === 'connected') {
      this.connectionLost(code, reason);
      return;
    }
    if (this.stateValue !== 'connecting' && this.stateValue !== 'authenticating') return;
    const fatal = FATAL_CLOSE_CODES.get(code);
    if (fatal) {
      this.close(new ChatClientError(fatal, `connection closed during connect: ${code} ${reason}`, { retryable: false }), true);
      return;
    }
    this.attemptFailed(new ChatClientError('CONNECT_FAILED', `connection closed during connect: ${code} ${reason}`));
  }

  // ---------- attempts ----------

  private startAttempt(): void {
    const generation = ++this.generation;
    this.stateValue = 'connecting';
    this.connectTimer = this.host.clock.setTimer(this.config.connectTimeoutMs, () => {
      this.connectTimer = undefined;
      if (generation !== this.generation) return;
      this.attemptFailed(new ChatClientError('TIMEOUT', `no welcome within ${this.config.connectTimeoutMs} ms`));
    });
    const url = this.rotation || this.config.urls.length > 0 ? (this.rotation ??= new GatewayRotation(this.config.urls)).next() : undefined;
    this.host.openConnection(generation, url, this.attempts++);
  }

  protected onWelcome(frame: WelcomeInfo): void {
    if (this.stateValue !== 'authenticating') return;
    this.connectTimer?.cancel();
    this.connectTimer = undefined;
    if (this.device?.userId !== frame.userId || this.device.deviceId !== frame.deviceId)
      this.device = { userId: frame.userId, deviceId: frame.deviceId };
    this.heartbeatIntervalMs = frame.heartbeatIntervalMs;
    const frameBytesMax = frame.limits.frameBytesMax;
    this.frameBytesMax = typeof frameBytesMax === 'number' ? frameBytesMax : undefined;
    this.stateValue = 'connected';
    this.failures = 0;
    const nowMs = this.host.clock.nowMs();
    this.connectedAtMs = nowMs;
    this.lastFrameAtMs = nowMs;
    const history = this.config.history;
    if (!this.everConnected) {
      this.everConnected = true;
      if (history && this.config.recordsLink) recordConnection(history, 'device', nowMs, frame);
    }
    // The first frame after the welcome tells the server we read it: only then is the device
    // shown online, and the answer to it comes once it is (docs/protocol.md, "Authenticate
    // first"). The history has the connection begin between the two (see heartbeatAcknowledged).
    if (history) recordConnection(history, 'welcomed', nowMs, frame);
    this.connectRecorded = false;
    this.writeFrame({ type: 'heartbeat' });
    this.armHeartbeat();
    this.connectionRestored(frame);
  }

  /** A connection attempt (open or auth) failed: back off and try the next gateway. */
  private attemptFailed(error: ChatClientError): void {
    this.dropConnection();
    this.failures++;
    if (this.failures >= this.config.maxReconnectAttempts) {
      this.close(
        new ChatClientError('CONNECT_FAILED', `gave up after ${this.failures} attempts: ${error.message}`, {
          retryable: false,
          cause: error,
        }),
        true,
      );
      return;
    }
    this.host.error(error);
    if (this.stateValue === 'closed' || this.stateValue === 'idle') return;
    this.scheduleReconnect();
  }

  /** The server refused our auth frame. */
  protected authFailed(error: ChatClientError): void {
    // A long-lived client's token expires; the host hands out a fresh one on the next attempt.
    // On the very first connect an expired token is the caller's bug: report it.
    const refreshable = error.code === 'TOKEN_EXPIRED' && this.config.tokenRefreshes && this.everConnected;
    if (error.retryable || refreshable) this.attemptFailed(error);
    else this.close(error, true);
  }

  /** An established connection ended (server close, network, idle timeout, goaway). */
  private connectionLost(code: number, reason: string): void {
    this.dropConnection();
    this.stateValue = 'reconnecting';
    this.flaps = this.host.clock.nowMs() - this.connectedAtMs < STABLE_CONNECTION_MS ? this.flaps + 1 : 0;
    const fatal = FATAL_CLOSE_CODES.get(code);
    this.noteDisconnected(code, reason, fatal === undefined);
    if (this.stateValue !== 'reconnecting') return; // the host closed or suspended the client meanwhile
    if (fatal) {
      this.close(new ChatClientError(fatal, `connection closed: ${code} ${reason}`, { retryable: false }), true);
      return;
    }
    this.scheduleReconnect();
  }

  /** Bookkeeping when a welcomed connection ends. */
  /**
   * A `heartbeat_ack`. The first on a connection answers the heartbeat sent on the welcome, which
   * the server acknowledges once it shows the device online: the history's `connect`. Between the
   * `welcomed` and it, the connection may or may not have begun for the server (its first frame
   * may be lost in a partition or held by a paused gateway); the presence check allows both.
   */
  protected heartbeatAcknowledged(): void {
    if (this.connectRecorded || this.stateValue !== 'connected' || !this.device) return;
    this.connectRecorded = true;
    const history = this.config.history;
    if (history) recordConnection(history, 'connect', this.host.clock.nowMs(), this.device);
  }

  private noteDisconnected(code: number, reason: string, willReconnect: boolean): void {
    const history = this.config.history;
    if (this.device && history) recordConnection(history, 'disconnect', this.host.clock.nowMs(), this.device);
    this.connectRecorded = false;
    this.connectionForgotten(code, reason);
    this.host.disconnected({ code, reason, willReconnect });
  }

  private scheduleReconnect(): void {
    this.stateValue = 'reconnecting';
    let delayMs: number;
    if (this.reconnectNotBeforeMs !== undefined) {
      delayMs = Math.max(0, this.reconnectNotBeforeMs - this.host.clock.nowMs());
      this.reconnectNotBeforeMs = undefined;
    } else {
      delayMs = backoffDelayMs(
        this.failures + this.flaps,
        this.config.reconnectMinDelayMs,
        this.config.reconnectMaxDelayMs,
        this.host.random.nextFloat(),
      );
    }
    this.reconnectTimer?.cancel();
    this.reconnectTimer = this.host.clock.setTimer(delayMs, () => {
      this.reconnectTimer = undefined;
      if (this.stateValue === 'reconnecting') this.startAttempt();
    });
  }

  /** Abandons the current connection (if any) and its timers; state is the caller's business. */
  protected dropConnection(code = 1000, reason = ''): void {
    this.generation++;
    this.connectTimer?.cancel();
    this.connectTimer = undefined;
    this.heartbeatTimer?.cancel();
    this.heartbeatTimer = undefined;
    this.goawayTimer?.cancel();
    this.goawayTimer = undefined;
    this.host.closeConnection(code, reason);
  }

  /** No reconnect (or other retry) is to follow. */
  protected cancelRetryTimers(): void {
    this.reconnectTimer?.cancel();
    this.reconnectTimer = undefined;
  }

  // ---------- heartbeat and liveness ----------

  private armHeartbeat(): void {
    const intervalMs = this.heartbeatIntervalMs;
    if (!(intervalMs > 0)) return;
    const generation = this.generation;
    this.heartbeatTimer = this.host.clock.setTimer(intervalMs, () => {
      this.heartbeatTimer = undefined;
      if (generation !== this.generation || this.stateValue !== 'connected') return;
      // The server answers every heartbeat, so silence means the path is dead even if TCP has
      // not noticed (a partition): reconnect rather than wait for the OS.
      const idleMs = this.config.idleTimeoutMs ?? intervalMs * IDLE_TIMEOUT_HEARTBEATS;
      if (idleMs > 0 && this.host.clock.nowMs() - this.lastFrameAtMs >= idleMs) {
        this.connectionLost(CloseCodes.HEARTBEAT_TIMEOUT, 'no frame from the server');
        return;
      }
      this.writeFrame({ type: 'heartbeat' });
      this.armHeartbeat();
    });
  }

  protected onGoaway(frame: ServerFrameOf<'goaway'>): void {
    if (frame.reason === 'device_unlinked') {
      // The server closes with DEVICE_UNLINKED right after; reconnecting would only be refused.
      this.close(new ChatClientError('DEVICE_UNKNOWN', 'this device was unlinked', { retryable: false }), true);
      return;
    }
    if (frame.urls && frame.urls.length > 0) (this.rotation ??= new GatewayRotation(this.config.urls)).redirect(frame.urls);
    const delayMs = Math.max(0, frame.reconnectAfterMs);
    this.reconnectNotBeforeMs = this.host.clock.nowMs() + delayMs;
    // Keep using this connection while the node drains; move when the hint says (or earlier,
    // if the node closes first — then the reconnect still waits for the hint).
    const generation = this.generation;
    this.goawayTimer?.cancel();
    this.goawayTimer = this.host.clock.setTimer(delayMs, () => {
      this.goawayTimer = undefined;
      if (generation === this.generation && this.stateValue === 'connected') {
        this.connectionLost(CloseCodes.GOING_AWAY, `goaway: ${frame.reason}`);
      }
    });
  }

  protected writeFrame(frame: ClientFrame): void {
    this.host.writeFrame(frame.type, JSON.stringify(frame));
  }
}

export function closedError(): ChatClientError {
  return new ChatClientError('CLOSED', 'the client is closed');
}

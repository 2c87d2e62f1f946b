import type { ConversationEvent } from '../../system/core/events.js';
import type { ConversationId, Seq, UserId } from '../../system/core/ids.js';
import type { Clock } from '../../system/ports/clock.js';
import type { Random } from '../../system/ports/random.js';
import type { ClientFrameType, ServerFrameOf } from '../../system/protocol/frames.js';
import type { ChatClientError } from '../errors.js';
import type { HistorySink } from '../history-recorder.js';
import type { Via } from '../ordering.js';
import type { PendingSend, SendResult } from './outbox.js';

export type WelcomeInfo = ServerFrameOf<'welcome'>;
export type ReceiptInfo = ServerFrameOf<'receipt'>;
export type PresenceInfo = ServerFrameOf<'presence'>;

/** A device as the server knows it (the welcome's userId and deviceId). */
export interface DeviceAddress {
  readonly userId: string;
  readonly deviceId: string;
}

export type ConnectionState = 'idle' | 'connecting' | 'authenticating' | 'connected' | 'reconnecting' | 'closed';

/** The server's log started over: what the client kept per conversation was dropped. */
export interface ResetInfo {
  /** The incarnation the client knew (from an earlier welcome, or the `incarnation` option). */
  previousIncarnation: string;
  /** The incarnation of the log the client is connected to now. */
  incarnation: string;
  /**
   * The cursors dropped, per conversation: the app's copy of those conversations came from the old
   * log, whose seqs the new one reuses. Sends not yet acknowledged are kept and sent to the new log.
   */
  cursors: Record<ConversationId, Seq>;
}

export interface DisconnectInfo {
  code: number;
  reason: string;
  /** False when the client stopped for good (close(), or a fatal error), or was suspended. */
  willReconnect: boolean;
}

/** How the client core behaves: the SDK's options, or the simulator's scenario (one object may serve many cores). */
export interface ClientCoreConfig {
  /** Gateway URLs, tried in turn; empty when the host picks the gateway itself (the simulator). */
  readonly urls: readonly string[];
  /** Prefix of generated client message ids until the server has told us our device id. */
  readonly deviceId: string | undefined;
  /** Acknowledge every event handed to the app. */
  readonly autoAck: boolean;
  /** Re-send an unacknowledged message after this long. */
  readonly sendTimeoutMs: number;
  /** Fail a request (a sync page included) with TIMEOUT after this long. */
  readonly requestTimeoutMs: number;
  /** Give up one connection attempt (open + auth) after this long. */
  readonly connectTimeoutMs: number;
  /** Reconnect backoff bounds. */
  readonly reconnectMinDelayMs: number;
  readonly reconnectMaxDelayMs: number;
  /** Longest wait before re-sending a message the server refused for now (never sooner than its hint). */
  readonly sendRetryMaxDelayMs: number;
  /** Consecutive failed connection attempts before giving up for good. */
  readonly maxReconnectAttempts: number;
  /** Drop the connection as dead when no frame arrived for this long (undefined: 2.5 heartbeat intervals; 0: never). */
  readonly idleTimeoutMs: number | undefined;
  /** Wait before retrying a sync that failed retryably (unless the server hints otherwise). */
  readonly syncRetryDelayMs: number;
  /** Validate every server text frame against the protocol schemas. */
  readonly validateFrames: boolean;
  /**
   * After (re)connecting, sync every conversation that has a cursor (true), or only those whose
   * sync is still owed (false): the offline inbox brings the rest, pushed. The SDK catches up
   * everything; the simulator's devices leave it to the inbox, as a push-woken app would.
   */
  readonly catchUpOnConnect: boolean;
  /** Whether the host fetches a fresh token for every attempt (an expired one is then worth a retry). */
  readonly tokenRefreshes: boolean;
  /**
   * When the acks gathered from inbound frames go out: at the end of each frame (false, the SDK:
   * a socket's frames arrive spread out), or once per clock instant from a zero-delay timer (true,
   * the simulator: its connections hand a device many frames at one virtual instant, and an ack
   * per frame would double the acks, receipts and route look-ups the server handles).
   */
  readonly acksPerInstant: boolean;
  /** Record the checker's `device` event on the first welcome (false when the host recorded the link itself). */
  readonly recordsLink: boolean;
  /** Where the checker's history events go (undefined: not recorded). */
  readonly history: HistorySink | undefined;
}

/** What an app persists of a client core to resume it later (cursors, unsent messages, watermarks). */
export interface SavedClientState {
  cursors: Record<ConversationId, Seq>;
  /** Unacknowledged sends, in send order (their timers are not kept). */
  outbox: PendingSend[];
  /** The server log incarnation the cursors belong to. */
  incarnation: string | undefined;
  /** Receipt watermarks seen (absent when none): stale receipts stay dropped after a restart. */
  receiptMarks?: Map<string, number | [delivered: number, read: number]>;
}

/**
 * The ports a client core is driven through. The core does no I/O and keeps no time of its own:
 * it reads the clock and asks for timers through `clock`, draws jitter from `random`, writes
 * frames through writeFrame(), and asks the host to open and close connections. The host feeds
 * it back what happened (ClientCore.connectionOpened/receiveText/receiveFrame/connectionClosed,
 * with the connection id it was given) and hears what the app should see through the callbacks.
 */
export interface ClientCoreHost {
  readonly clock: Clock;
  readonly random: Random;

  /**
   * Open a connection (to `url`, or, with no urls configured, wherever the host routes attempt
   * number `attempt`), get a token, and call connectionOpened(connectionId, token), or
   * connectionFailed(connectionId, error). May call back at once.
   */
  openConnection(connectionId: number, url: string | undefined, attempt: number): void;
  /** Close the current connection (if any); the core already forgot it. */
  closeConnection(code: number, reason: string): void;
  /** Write one text frame on the current connection (dropped when there is none). */
  writeFrame(type: ClientFrameType, text: string): void;
  /** Users whose presence the app watches: the subscription is renewed on every welcome. */
  watchedUsers(): Iterable<UserId> | undefined;

  connected(welcome: WelcomeInfo, reset: ResetInfo | undefined): void;
  disconnected(info: DisconnectInfo): void;
  /** A conversation event, in seq order per conversation, each seq once. */
  delivered(event: ConversationEvent, via: Via): void;
  /** The server stored one of our messages (`send` has left the outbox). */
  sendAccepted(send: PendingSend, result: SendResult): void;
  /** The server logged one of our messages in its write-ahead log; its seq follows. */
  sendQueued(send: PendingSend, serverTimeMs: number): void;
  /** The server refused a send for now: it is sent again after `delayMs`. */
  sendRetrying(send: PendingSend, error: ChatClientError, delayMs: number): void;
  /** A send failed for good (refused, too large, or the client stopped): it has left the outbox. */
  sendFailed(send: PendingSend, error: ChatClientError, stopping: boolean): void;
  receipt(receipt: ReceiptInfo): void;
  presence(presence: PresenceInfo): void;
  /** Errors nobody waits for: failed connection attempts, unsolicited or invalid frames. */
  error(error: ChatClientError): void;
  /** The client stopped for good (before `disconnected` and the final `error`, if any). */
  stopped(error: ChatClientError): void;
}

import type { ErrorCode } from '../core/errors.js';

/** What the core reports; prom-client implements it live, the simulator aggregates it itself. */
export interface Metrics {
  connectionOpened(): void;
  connectionClosed(reason: string): void;
  frameIn(type: string): void;
  frameOut(type: string): void;
  messageAccepted(kind: 'message' | 'membership'): void;
  /** One event handed to one recipient device's connection, with its send→deliver latency. */
  messageDelivered(latencyMs: number): void;
  fanout(recipientDevices: number): void;
  /** Once per connection: how many queued events its inbox held (and sent) when it connected. */
  inboxDrained(events: number): void;
  pushSent(outcome: string): void;
  error(code: ErrorCode): void;
  /** The write-ahead log changed: entries pending replay, and the age of the oldest (0 when empty). */
  walState(depth: number, oldestAgeMs: number): void;
  /** A send went to the write-ahead log (the store could not take it). */
  walAppended(): void;
  /** A logged send was replayed: stored now, found stored already, or refused (dropped, logged). */
  walReplayed(outcome: 'stored' | 'duplicate' | 'rejected'): void;
}

export const noopMetrics: Metrics = {
  connectionOpened() {},
  connectionClosed() {},
  frameIn() {},
  frameOut() {},
  messageAccepted() {},
  messageDelivered() {},
  fanout() {},
  inboxDrained() {},
  pushSent() {},
  error() {},
  walState() {},
  walAppended() {},
  walReplayed() {},
};

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
};

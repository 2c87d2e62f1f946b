import { errorCodeList } from '../core/errors.js';
import { clientFrameSchemas, serverFrameSchemas } from '../protocol/frames.js';
import type { PushResult } from '../ports/push-sender.js';

/**
 * The label values each labelled counter can take, where they form a known set. The counters are
 * created with every one of them at 0: Prometheus' increase() and rate() need a sample before the
 * first increment, or the first error of a kind never shows on a dashboard or in an SLO query.
 */

/** PushResult outcomes, plus 'error' for a push sender that threw (push-notifier.ts). */
export const pushOutcomes = ['sent', 'unregistered', 'retry', 'failed', 'error'] as const satisfies ReadonlyArray<
  PushResult['outcome'] | 'error'
>;

export const acceptedEventKinds = ['message', 'membership'] as const;

export const walReplayOutcomes = ['stored', 'duplicate', 'rejected'] as const;

export const clientFrameTypes = Object.keys(clientFrameSchemas);

export const serverFrameTypes = Object.keys(serverFrameSchemas);

/**
 * Close reasons the gateway itself reports (ws-gateway.ts and session.ts): a client's normal
 * close, a socket error, the server's own closes (session.ts, gateway-node.ts), and every error
 * code (a session closed for an error reports its code). A peer's other close codes arrive as
 * `closed_<code>`, an open set, and are not listed.
 */
export const knownCloseReasons = [
  'client_closed',
  'socket_error',
  'slow consumer',
  'device unlinked',
  'server shutting down',
  ...errorCodeList,
];

export { errorCodeList as errorCodes };

/**
 * The service-level objectives the alerting rules guard: one place for their targets. Each turns
 * into recorded error ratios over several windows and two burn-rate alerts (slo-rule-file.ts).
 * docs/slo-alerts.md explains each choice; docs/metrics.md lists the metrics they read.
 */
import type { ErrorCode } from '../../system/core/errors.js';

/** Latency target of both the deliver and the ack SLO (scenarios' `slo.deliver_p99_ms`, the design's 200 ms). */
export const LATENCY_TARGET_S = 0.2;

/**
 * Oldest write-ahead-log entry age past which the log counts as stuck: the scenarios' default
 * liveness bound (`liveness_bound_s`, 60 s), the time by which anything queued must be delivered.
 */
export const WAL_AGE_LIMIT_S = 60;

/**
 * Error codes that mean the server failed a request (the retryable codes of docs/errors.md, less
 * RATE_LIMITED, which is the client going too fast). Client mistakes (INVALID_FIELD, NOT_A_MEMBER,
 * TOKEN_EXPIRED, …) are answered correctly and must not page anyone.
 */
export const SERVER_FAULT_ERROR_CODES = [
  'INTERNAL',
  'STORAGE_UNAVAILABLE',
  'AUTH_UNAVAILABLE',
  'SHUTTING_DOWN',
  'OVERLOADED',
] as const satisfies readonly ErrorCode[];

/**
 * Close reasons (chat_connections_closed_total{reason}) that mean a connection was dropped rather
 * than ended on purpose: the socket failed or ended without a close frame (1006), or the server cut
 * a connection that could not keep up or went silent, or failed it with INTERNAL. Orderly ends
 * (client_closed, server shutting down with goaway, device unlinked, auth refused) are not drops.
 */
export const DROP_CLOSE_REASONS = [
  'socket_error',
  'closed_1006',
  'slow consumer',
  'SLOW_CONSUMER',
  'HEARTBEAT_TIMEOUT',
  'INTERNAL',
] as const;

/** A ratio SLI: bad events over all events, both as PromQL taking a range window such as `5m`. */
interface EventRatioSli {
  kind: 'events';
  badEventsRate: (window: string) => string;
  totalEventsRate: (window: string) => string;
}

/**
 * A time SLI: a 0/1 expression (1 = the objective is missed at this instant) recorded at every
 * rule evaluation; the error ratio over a window is the share of evaluations that recorded 1.
 */
interface BadTimeSli {
  kind: 'time';
  badNow: string;
}

export interface ServiceLevelObjective {
  /** Value of the `slo` label on every recorded series and alert; kebab-case. */
  name: string;
  /** Alert name stem: `<alertStem>FastBurn` pages, `<alertStem>SlowBurn` opens a ticket. */
  alertStem: string;
  /** Share of good events (or good time) over the 30-day period, e.g. 0.99. */
  objective: number;
  /** What is promised, for alert descriptions and the docs. */
  promise: string;
  sli: EventRatioSli | BadTimeSli;
}

const sumRate = (selector: string) => (window: string) => `sum(rate(${selector}[${window}]))`;

/** Events slower than the target: all observations minus those in the bucket at the target. */
function slowerThanTarget(histogram: string): EventRatioSli {
  const le = String(LATENCY_TARGET_S);
  return {
    kind: 'events',
    badEventsRate: (w) => `(${sumRate(`${histogram}_count`)(w)} - ${sumRate(`${histogram}_bucket{le="${le}"}`)(w)})`,
    totalEventsRate: sumRate(`${histogram}_count`),
  };
}

/** An alternation for a label matcher; the values are plain words (a test keeps them so), so nothing needs escaping. */
const regexOf = (values: readonly string[]) => values.join('|');

export const SERVICE_LEVEL_OBJECTIVES: readonly ServiceLevelObjective[] = [
  {
    name: 'deliver-latency',
    alertStem: 'ChatDeliverLatency',
    objective: 0.99,
    promise: `99% of live deliveries leave the gateway within ${LATENCY_TARGET_S * 1000} ms of acceptance (deliver p99 < ${LATENCY_TARGET_S * 1000} ms, server clock)`,
    sli: slowerThanTarget('chat_deliver_latency_seconds'),
  },
  {
    // The gateways do not time acks; the load driver does (scheduled send → ack), so this SLO
    // has data only while a driver's --metrics-port is scraped (staging and load runs).
    name: 'ack-latency',
    alertStem: 'ChatAckLatency',
    objective: 0.99,
    promise: `99% of sends are acknowledged within ${LATENCY_TARGET_S * 1000} ms as the load driver sees them (ack p99 < ${LATENCY_TARGET_S * 1000} ms)`,
    sli: slowerThanTarget('load_ack_latency_seconds'),
  },
  {
    // Heartbeats are left out of the requests: an idle connection's heartbeats would dilute errors.
    name: 'errors',
    alertStem: 'ChatServerErrors',
    objective: 0.999,
    promise: "at most 0.1% of client requests are answered with a server-fault error (the scenarios' error_rate_max 0.001)",
    sli: {
      kind: 'events',
      badEventsRate: sumRate(`chat_errors_total{code=~"${regexOf(SERVER_FAULT_ERROR_CODES)}"}`),
      totalEventsRate: sumRate('chat_frames_in_total{type!="heartbeat"}'),
    },
  },
  {
    name: 'wal-age',
    alertStem: 'ChatWalStuck',
    objective: 0.999,
    promise: `the oldest write-ahead-log entry on every gateway is younger than ${WAL_AGE_LIMIT_S} s, 99.9% of the time`,
    sli: { kind: 'time', badNow: `max(chat_wal_oldest_age_seconds) > bool ${WAL_AGE_LIMIT_S}` },
  },
  {
    name: 'connection-drops',
    alertStem: 'ChatConnectionDrops',
    objective: 0.99,
    promise: '99% of client connections end in an orderly close rather than a drop',
    sli: {
      kind: 'events',
      badEventsRate: sumRate(`chat_connections_closed_total{reason=~"${regexOf(DROP_CLOSE_REASONS)}"}`),
      totalEventsRate: sumRate('chat_connections_closed_total'),
    },
  },
];

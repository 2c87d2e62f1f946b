/**
 * The service-level objectives the dashboards draw as lines and colour their stats by. They are
 * the design's numbers (the scenarios' `slo:` sections use the same: deliver and ack p99 under
 * 200 ms); a dashboard only shows them, the load driver's gate and the alert rules judge.
 */
export const SLO_TARGETS = {
  /** Deliver latency p99, seconds (send → live delivery). */
  deliverP99S: 0.2,
  /** Ack latency p99, seconds (send → ack). */
  ackP99S: 0.2,
  /** Error frames over client frames (gateway) or failed over sent (driver), as a ratio. */
  errorRatio: 0.01,
  /** Age of the oldest write-ahead log entry, seconds: past this a store outage is user-visible. */
  walOldestAgeS: 30,
} as const;

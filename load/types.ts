import type { History } from '../checker/history.js';
import type { RunSummary } from '../checker/run-summary.js';

/*
 * The public, programmatic face of the live load driver (`runLoad` in run-load.ts). Chaos drills
 * and the CLI both build on these types; they only grow (new optional fields), never change.
 */

/** Which part of the virtual users this process drives: users whose index % count === index. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** How the driver treats the scenario's `faults:` list (it never injects faults itself). */
export type FaultHandling =
  /** Refuse to run a scenario that lists faults (exit 3): a load run must not silently skip them. */
  | 'refuse'
  /** Run the load without them; the summary says which were skipped (`faults_skipped`). */
  | 'skip'
  /** The caller (a chaos drill) injects them and fills `summary.faults`; the driver only runs the load. */
  | 'caller';

/** One line of the live progress display, also handed to `onProgress` about once a second. */
export interface LoadProgress {
  phase: 'setup' | 'traffic' | 'settle' | 'check' | 'done';
  /** Seconds since the traffic phase began (negative while setting up). */
  elapsedS: number;
  durationS: number;
  connections: number;
  devices: number;
  sent: number;
  acked: number;
  delivered: number;
  errors: number;
  /** Messages per second the schedule asked for at this moment (this shard). */
  offeredPerS: number;
  /** Send→deliver p99 over the last second (ms), null when nothing was delivered live. */
  deliverP99MsWindow: number | null;
}

/**
 * One point per second of the run, for charts (reports/) and chaos timelines. Times are seconds
 * from the start of the traffic phase.
 */
export interface LoadSample {
  atS: number;
  connections: number;
  offeredPerS: number;
  sentPerS: number;
  ackedPerS: number;
  deliveredPerS: number;
  errorsPerS: number;
  /** Sends the servers refused for now (OVERLOADED, RATE_LIMITED, …) and the clients will re-send: not errors. */
  refusedPerS: number;
  deliverP50Ms: number | null;
  deliverP99Ms: number | null;
  ackP99Ms: number | null;
}

/** Anything that wants the per-second samples as they happen. */
export interface TimeSeriesSink {
  record(sample: LoadSample): void;
}

/**
 * The shape of reports' TimeSeriesRecorder: fed per event (counts `sent`, `acked`, `delivered`,
 * `errors`; latencies `ack`, `deliver`, `receipt`; gauges `connections`, `offered msgs/s`), with
 * times in seconds from the start of the traffic phase. Events before it (setup) are not fed.
 */
export interface TimeSeriesRecorderLike {
  count(name: string, atS: number, n?: number): void;
  latency(name: string, atS: number, valueMs: number): void;
  gauge(name: string, atS: number, value: number): void;
}

/** Turns a (user, device) into a bearer token the target accepts. */
export type TokenProvider = (userId: string, deviceId: string) => Promise<string>;

export interface LoadOptions {
  /** Gateway WebSocket URLs (ws://…). Absent: start the embedded reference system in-process. */
  targets?: string[];
  /**
   * Tokens for the target. Default: signed locally with `tokenSecret` when given (or the embedded
   * development secret for the embedded target), else `POST /dev/token` on the first target.
   */
  tokenFor?: TokenProvider;
  /** HMAC secret of the target (CHAT_TOKEN_SECRET): sign tokens locally instead of asking /dev/token. */
  tokenSecret?: string;
  /** Overrides the scenario's duration_s (the traffic phase). */
  durationS?: number;
  shard?: ShardSpec;
  /** Called about once a second with the live figures. */
  onProgress?: (progress: LoadProgress) => void;
  /** Called as the run enters each phase (traffic, settle, check, done; it starts in setup). */
  onPhase?: (phase: LoadProgress['phase']) => void;
  /** Per-second samples (TimeSeriesSink) or per-event figures (reports' TimeSeriesRecorder). */
  timeSeries?: TimeSeriesSink | TimeSeriesRecorderLike;
  /** Aborting ends the traffic phase early; the run still settles and checks what it has. */
  signal?: AbortSignal;
  /** Default 'refuse' (see FaultHandling). */
  faults?: FaultHandling;
  /** Overrides of the scenario's objectives, e.g. { 'deliver.p99': '200ms' } (names as for `--slo`). */
  slo?: Record<string, string>;
  /** Also evaluate objectives from the system's metrics through this Prometheus (base URL). */
  prometheusUrl?: string;
  /** Serve the driver's own Prometheus metrics on this port (0 = a free port). */
  metricsPort?: number;
  /**
   * Push the driver's own metrics to a Prometheus remote-write endpoint while the run goes on and
   * once at its end (`--out prometheus-remote-write=URL`); `intervalMs` defaults to 5 s.
   */
  remoteWrite?: { url: string; intervalMs?: number };
  /** Log lines (setup steps, warnings); default none. */
  log?: (line: string) => void;
  /**
   * Test-only: the application of one device "loses" the Nth live message delivery (it is never
   * recorded as seen), as if the system had dropped it. The checker must then report it (exit 1).
   */
  plantDroppedDelivery?: number;
  /**
   * Test-only: written after the time stamp of every message body, so a scan of the target's
   * stores can show which bodies the server holds in plaintext (traffic.encrypted_share).
   */
  plaintextMarker?: string;
}

/** Latency figures of one measured distribution (milliseconds). */
export interface LatencyFiguresMs {
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
}

export interface LoadRunResult {
  /** The run summary (`kind: "load"`), as printed and written with --json. */
  summary: RunSummary;
  /** Every event this process's clients recorded (checked already; write it for a merge). */
  history: History;
  /** One sample per second of the traffic phase and the settle phase. */
  timeSeries: LoadSample[];
  /** The exit code the summary implies (0, 1 or 2). */
  exitCode: number;
  /** Wall-clock time (epoch ms) when the traffic phase started and ended. */
  trafficStartedAtMs: number;
  trafficEndedAtMs: number;
  /**
   * Wall-clock time (epoch ms) when the settle phase ended: deliveries go on landing until then,
   * so per-second charts of the run end here, not at the traffic's end.
   */
  settledAtMs: number;
  /** The gateway URLs the run drove (the embedded system's when it started one). */
  targets: string[];
}

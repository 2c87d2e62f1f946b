/**
 * `--out prometheus-remote-write=URL`: pushes the driver's own metrics (driver-metrics.ts) to a
 * Prometheus remote-write endpoint every few seconds while a run goes on, and once more when it
 * ends. A short CI run is over before a pull-based scrape comes round; pushed, its figures are in
 * the Prometheus that holds the system's. The wire format (protobuf WriteRequest, snappy-compressed)
 * is the prometheus-remote-write package's; this file decides what to send and when.
 *
 * A failed push is logged and counted, never fatal: the run's own summary does not depend on it.
 */
import { pushTimeseries } from 'prometheus-remote-write';
import type { Registry } from 'prom-client';
import { registryTimeseries } from './registry-timeseries.js';

/** How often samples are pushed during a run (k6's remote-write output pushes every 5 s too). */
export const REMOTE_WRITE_INTERVAL_MS = 5_000;
/** One push that has not been answered within this is abandoned and counted as failed. */
export const REMOTE_WRITE_TIMEOUT_MS = 10_000;

export interface RemoteWriteOptions {
  url: string;
  /** Default REMOTE_WRITE_INTERVAL_MS. */
  intervalMs?: number;
  /** Added to every series (the run id, so two runs never write into one series). */
  labels?: Readonly<Record<string, string>>;
  log?: (line: string) => void;
}

export interface RemoteWriteStats {
  pushes: number;
  failures: number;
  lastError: string | undefined;
}

/** The versions Prometheus' receiver checks for; the package sends neither by itself. */
const PROTOCOL_HEADERS = {
  'Content-Encoding': 'snappy',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
  'User-Agent': 'chatload-load-driver',
};

export class RemoteWritePusher {
  readonly stats: RemoteWriteStats = { pushes: 0, failures: 0, lastError: undefined };
  private timer: ReturnType<typeof setInterval> | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly log: (line: string) => void;

  constructor(
    private readonly registry: Registry,
    private readonly options: RemoteWriteOptions,
  ) {
    this.log = options.log ?? (() => undefined);
  }

  start(): void {
    this.timer = setInterval(() => {
      // A slow endpoint gets no second request on top of the first: this tick is skipped.
      if (!this.inFlight) void this.pushNow();
    }, this.options.intervalMs ?? REMOTE_WRITE_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops the timer and pushes the final values (after any push still in flight). */
  async stop(): Promise<RemoteWriteStats> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    await this.pushNow();
    const { pushes, failures, lastError } = this.stats;
    this.log(`remote write to ${this.options.url}: ${pushes} push(es), ${failures} failed${lastError ? ` (last: ${lastError})` : ''}`);
    return this.stats;
  }

  /** One push of every series as it is now. */
  pushNow(): Promise<void> {
    const push = this.push().finally(() => {
      if (this.inFlight === push) this.inFlight = undefined;
    });
    this.inFlight = push;
    return push;
  }

  private async push(): Promise<void> {
    this.stats.pushes++;
    try {
      const series = await registryTimeseries(this.registry, this.options.labels ?? {}, Date.now());
      const result = await pushTimeseries(series, { url: this.options.url, headers: PROTOCOL_HEADERS, fetch: fetchWithTimeout });
      if (result.status < 200 || result.status >= 300)
        throw new Error(`${result.status} ${result.statusText}: ${(result.errorMessage ?? '').trim().slice(0, 200)}`);
    } catch (error) {
      this.fail((error as Error).message);
    }
  }

  private fail(message: string): void {
    this.stats.failures++;
    // The first failure and each new kind of failure are worth a line; a repeat is only counted.
    if (message !== this.stats.lastError) this.log(`remote write to ${this.options.url} failed: ${message}`);
    this.stats.lastError = message;
  }
}

/**
 * Node's fetch in the shape the package calls (it would load node-fetch otherwise), bounded by
 * REMOTE_WRITE_TIMEOUT_MS. The body is the snappy-compressed bytes (a Uint8Array at run time).
 */
async function fetchWithTimeout(url: string, init?: { method: string; headers: Record<string, string>; body: ArrayBufferLike }) {
  return fetch(url, {
    ...(init ? { method: init.method, headers: init.headers, body: new Uint8Array(init.body as ArrayBuffer) } : {}),
    signal: AbortSignal.timeout(REMOTE_WRITE_TIMEOUT_MS),
  });
}

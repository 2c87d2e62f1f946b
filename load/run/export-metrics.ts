import type { DriverMetrics } from '../driver-metrics.js';
import { RemoteWritePusher } from '../remote-write.js';
import type { RunSettings } from './run-settings.js';

/**
 * The driver's own metrics leave the process: served on `--metrics-port` (the URL is logged) and
 * pushed by remote write (`--out prometheus-remote-write=URL`), whose pusher is returned to be stopped.
 */
export async function exportDriverMetrics(settings: RunSettings, metrics: DriverMetrics): Promise<RemoteWritePusher | undefined> {
  const { options, log, runId } = settings;
  const metricsUrl = options.metricsPort !== undefined ? await metrics.serve(options.metricsPort) : undefined;
  if (metricsUrl) log(`driver metrics on ${metricsUrl}`);
  // Series carry the run id: two runs pushing into one Prometheus never write into one series.
  const remoteWrite = options.remoteWrite
    ? new RemoteWritePusher(metrics.registry, { ...options.remoteWrite, labels: { run_id: runId }, log })
    : undefined;
  remoteWrite?.start();
  return remoteWrite;
}

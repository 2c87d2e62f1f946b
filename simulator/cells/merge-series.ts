import type { SeriesPoint } from '../report/collector.js';

/**
 * The cells' time series as one, interval by interval (the cells share the scenario's clock and
 * interval, so point i of every cell covers the same span). Rates, devices, inbox and WAL depths
 * add up across cells. The tier queues and the busiest gateway's CPU wait are each cell's view of
 * the whole deployment (its own requests plus the background), so the worst cell's is kept.
 * Per-interval percentiles cannot be merged from percentiles: p50 is the delivery-weighted mean
 * of the cells' and p99 the worst cell's, an upper bound (the run-wide figures are exact).
 * Utilisation is, like the run-wide figure, the mean of the cells' views of the shared servers.
 */
export function mergeSeries(cells: readonly (readonly SeriesPoint[])[]): SeriesPoint[] {
  if (cells.length === 0) return [];
  const length = Math.min(...cells.map((c) => c.length));
  const out: SeriesPoint[] = [];
  for (let i = 0; i < length; i++) {
    const points = cells.map((c) => c[i]!);
    const sum = (pick: (p: SeriesPoint) => number) => points.reduce((a, p) => a + pick(p), 0);
    const max = (pick: (p: SeriesPoint) => number) => Math.max(...points.map(pick));
    const weighted = (pick: (p: SeriesPoint) => number, weight: (p: SeriesPoint) => number) => {
      const total = sum(weight);
      return total > 0 ? round(points.reduce((a, p) => a + pick(p) * weight(p), 0) / total) : 0;
    };
    const wal = points.some((p) => p.wal_depth !== null) ? sum((p) => p.wal_depth ?? 0) : null;
    out.push({
      t_s: points[0]!.t_s,
      sent_per_s: round(sum((p) => p.sent_per_s)),
      acked_per_s: round(sum((p) => p.acked_per_s)),
      delivered_per_s: round(sum((p) => p.delivered_per_s)),
      ack_p50_ms: weighted(
        (p) => p.ack_p50_ms,
        (p) => p.acked_per_s,
      ),
      ack_p99_ms: max((p) => p.ack_p99_ms),
      deliver_p50_ms: weighted(
        (p) => p.deliver_p50_ms,
        (p) => p.delivered_per_s,
      ),
      deliver_p99_ms: max((p) => p.deliver_p99_ms),
      online_devices: sum((p) => p.online_devices),
      inbox_depth: sum((p) => p.inbox_depth),
      gateway_cpu_wait_ms_peak: max((p) => p.gateway_cpu_wait_ms_peak),
      cassandra_queue_peak: max((p) => p.cassandra_queue_peak),
      redis_queue_peak: max((p) => p.redis_queue_peak),
      wal_depth: wal,
      ...meanWhereAll(points, 'cassandra_utilisation'),
      ...meanWhereAll(points, 'redis_utilisation'),
      ...meanWhereAll(points, 'gateway_cpu_utilisation_max'),
      ...connectionsPerGateway(points),
      ...sumWhereAll(points, 'errors_per_s'),
      ...sumWhereAll(points, 'cassandra_timeouts_per_s'),
      ...sumWhereAll(points, 'redis_timeouts_per_s'),
    });
  }
  return out;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

type UtilisationKey = 'cassandra_utilisation' | 'redis_utilisation' | 'gateway_cpu_utilisation_max';

/** The mean of an optional figure, when every cell recorded it (summaries from before it existed lack it). */
function meanWhereAll(points: readonly SeriesPoint[], key: UtilisationKey): Partial<Pick<SeriesPoint, UtilisationKey>> {
  const values = points.map((p) => p[key]);
  if (values.some((v) => v === undefined)) return {};
  return { [key]: round((values as number[]).reduce((a, v) => a + v, 0) / values.length) };
}

/** Each gateway's connections summed over the cells (every cell runs on the same gateways), when every cell recorded them. */
function connectionsPerGateway(points: readonly SeriesPoint[]): Pick<SeriesPoint, 'connections_per_gateway'> {
  if (points.some((p) => p.connections_per_gateway === undefined)) return {};
  const width = Math.max(...points.map((p) => p.connections_per_gateway!.length));
  return {
    connections_per_gateway: Array.from({ length: width }, (_, i) => points.reduce((a, p) => a + (p.connections_per_gateway![i] ?? 0), 0)),
  };
}

type RateKey = 'errors_per_s' | 'cassandra_timeouts_per_s' | 'redis_timeouts_per_s';

/** The sum of an optional per-second figure (each cell's own), when every cell recorded it. */
function sumWhereAll(points: readonly SeriesPoint[], key: RateKey): Partial<Pick<SeriesPoint, RateKey>> {
  const values = points.map((p) => p[key]);
  if (values.some((v) => v === undefined)) return {};
  return { [key]: round((values as number[]).reduce((a, v) => a + v, 0)) };
}

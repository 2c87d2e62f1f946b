import type { SimWorld } from '../../system/worlds/simulated/sim-world.js';
import type { SimRun } from './build-world.js';
import type { StartedLoad } from './start-load.js';

/** Stops the time series (the run is over: the last interval is not closed). */
export interface IntervalSampler {
  stop(): void;
}

/**
 * Time series: one point per interval, with the depths the world shows at its end and the queues'
 * peaks within it. Each point also tells the injector whether the service has recovered from a fault.
 */
export function startIntervalSampler(run: SimRun, load: StartedLoad): IntervalSampler {
  const { plan, time, intervalMs, collector, world, workload } = run;
  const { startMs, injector } = load;
  let sampling = true;
  const busyShare = intervalBusyShares(world, plan.scenario.sim.gateway.cores, intervalMs);
  const sample = () => {
    if (!sampling) return;
    let cpuWaitPeakMs = 0;
    for (const g of world.gateways) cpuWaitPeakMs = Math.max(cpuWaitPeakMs, g.cpu.takeIntervalWaitPeakMs());
    const shares = busyShare();
    collector.closeInterval(time.nowMs() - startMs, {
      online_devices: workload.connectedCount,
      inbox_depth: world.backends.inbox.totalDepth,
      gateway_cpu_wait_ms_peak: Math.round(cpuWaitPeakMs * 100) / 100,
      cassandra_queue_peak: world.tiers.cassandra.takeIntervalQueuedPeak(),
      redis_queue_peak: world.tiers.redis.takeIntervalQueuedPeak(),
      wal_depth: collector.walDepth(),
      cassandra_utilisation: shares.cassandra,
      redis_utilisation: shares.redis,
      gateway_cpu_utilisation_max: shares.gatewayMax,
      connections_per_gateway: world.gateways.map((g) => g.connectionCount),
      cassandra_timeouts_per_s: shares.cassandraTimeoutsPerS,
      redis_timeouts_per_s: shares.redisTimeoutsPerS,
    });
    const last = collector.series[collector.series.length - 1]!;
    injector.markRecovered(() => last.deliver_p99_ms < plan.scenario.slo.deliver_p99_ms && last.acked_per_s > 0);
    time.schedule(intervalMs, sample);
  };
  time.schedule(intervalMs, sample);
  return {
    stop: () => {
      sampling = false;
    },
  };
}

/**
 * A sampler of what the run-wide `utilisation` and `timeouts` figures are, per interval, since its
 * previous call: the busy share of the Cassandra and Redis servers and of the busiest gateway's
 * cores, and the two tiers' timeouts per second.
 */
function intervalBusyShares(
  world: SimWorld,
  gatewayCores: number,
  intervalMs: number,
): () => { cassandra: number; redis: number; gatewayMax: number; cassandraTimeoutsPerS: number; redisTimeoutsPerS: number } {
  const { cassandra, redis } = world.tiers;
  const read = () => ({ cassandra: cassandra.stats, redis: redis.stats, gateways: world.gateways.map((g) => g.cpu.busyMs) });
  let last = read();
  const share = (busyMs: number, servers: number) => Math.round((Math.max(0, busyMs) / (servers * intervalMs)) * 10_000) / 10_000;
  const perS = (count: number) => Math.round((Math.max(0, count) * 1000 * 100) / intervalMs) / 100;
  return () => {
    const now = read();
    const gatewayMax = Math.max(0, ...now.gateways.map((busyMs, i) => share(busyMs - (last.gateways[i] ?? 0), gatewayCores)));
    const shares = {
      cassandra: share(now.cassandra.busyMs - last.cassandra.busyMs, cassandra.model.concurrency),
      redis: share(now.redis.busyMs - last.redis.busyMs, redis.model.concurrency),
      gatewayMax,
      cassandraTimeoutsPerS: perS(now.cassandra.timeouts - last.cassandra.timeouts),
      redisTimeoutsPerS: perS(now.redis.timeouts - last.redis.timeouts),
    };
    last = now;
    return shares;
  };
}

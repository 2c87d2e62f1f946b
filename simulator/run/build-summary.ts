import { latencyFigures, summarizeViolations, type RunSummary } from '../../checker/run-summary.js';
import type { ServiceTier } from '../../system/adapters/virtual/service-tier.js';
import type { FaultRecord } from '../faults/fault-injector.js';
import type { RunCollector } from '../report/collector.js';
import type { SimRun } from './build-world.js';
import type { RunCheck } from './check-run.js';
import type { LivenessOutcome } from './liveness-phase.js';
import type { RunCapacity } from './capacity-of-run.js';

/** What the phases found, for the summary. */
export interface RunFindings {
  check: RunCheck;
  latency: ReturnType<RunCollector['latency']>;
  slo: RunSummary['slo'];
  faults: readonly FaultRecord[];
  liveness: LivenessOutcome;
  capacity: RunCapacity;
  /** Simulated time from the start of the load to the quiesce event. */
  simulatedMs: number;
  wall: RunWallFigures;
  reproduce: string;
  notes: string[];
}

/** What the run cost in wall-clock time and memory (these vary between runs of one seed; nothing else does). */
export interface RunWallFigures {
  wallS: number;
  setupWallS: number;
  /** Scheduler events the set-up ran (none with the bulk load, unless it changes). */
  setupEvents: number;
  heapPeakBytes: number;
}

/** The summary phase: the run summary (the shared keys of docs/summaries.md, kind "sim"). */
export function buildSimSummary(run: SimRun, f: RunFindings): RunSummary {
  const { plan, time, collector, world, tap } = run;
  const { scenario, fullScenario, cellScale, cell } = plan;
  const { wallS } = f.wall;
  const elapsedS = f.simulatedMs / 1000;
  return {
    kind: 'sim',
    scenario: scenario.name,
    seed: plan.runSeed,
    users: scenario.population.users,
    ...(cellScale > 1 || cell
      ? {
          cell: {
            users: scenario.population.users,
            of_users: fullScenario.population.users,
            scale: round(cellScale),
            background: scenario.sim.cell_background,
            ...(cell ? { index: cell.index, count: cell.count, seed: plan.seed, duration_s: scenario.duration_s } : {}),
          },
        }
      : {}),
    devices: run.workload.population.devices,
    messages: { sent: collector.sent, acked: collector.acked, delivered: collector.delivered },
    latency_ms: { ack: latencyFigures(f.latency.ack), deliver: latencyFigures(f.latency.deliver) },
    invariants: summarizeViolations(f.check.result.checked, f.check.result.violations, f.check.totalViolations),
    slo: f.slo,
    faults: f.faults.map(({ random: _random, ...fault }) => fault),
    wall_s: round(wallS),
    sim: {
      simulated_s: round(elapsedS),
      events: time.eventsRun,
      events_per_s: Math.round(time.eventsRun / wallS),
      heap_bytes_peak: f.wall.heapPeakBytes,
      trace_hash: tap.trace.digest(),
      simulated_per_wall: round(elapsedS / wallS),
      setup_wall_s: round(f.wall.setupWallS),
      setup_events: f.wall.setupEvents,
      cpu_s: round((process.cpuUsage().user + process.cpuUsage().system) / 1e6),
      bytes_per_user: Math.round(f.wall.heapPeakBytes / scenario.population.users),
      history_events: tap.count,
      checker: run.fullCheck ? 'full' : 'streaming',
      liveness: {
        converged: f.liveness.converged,
        converged_after_s: f.liveness.converged ? round(f.liveness.convergedAfterS) : null,
        bound_s: scenario.liveness_bound_s,
      },
      rejected: collector.rejected,
      // Exact latency and staleness histograms, so that cells (or seeds) merge exactly.
      histograms: collector.histograms(),
    },
    throughput: {
      sent_per_s: round(collector.sent / elapsedS),
      acked_per_s: round(collector.acked / elapsedS),
      delivered_per_s: round(collector.delivered / elapsedS),
    },
    fanout: {
      accepted: collector.accepted,
      queued_deliveries: collector.fanoutDevices,
      amplification: collector.accepted > 0 ? round(collector.fanoutDevices / Math.max(1, collector.fanoutEvents)) : 0,
    },
    depths: depthsOf(run),
    presence_staleness_ms: {
      p50: round(collector.presenceStalenessMs.percentile(50)),
      p99: round(collector.presenceStalenessMs.percentile(99)),
      samples: collector.presenceStalenessMs.total,
    },
    storage: {
      messages_stored: world.backends.messageLog.storedEvents,
      message_body_bytes: world.backends.messageLog.storedBodyBytes,
      media_objects: world.backends.blobs.objectCount,
      media_bytes: world.backends.blobs.storedBytes,
      message_bytes_per_s: round(world.backends.messageLog.storedBodyBytes / elapsedS),
    },
    utilisation: utilisationOf(run, f.simulatedMs),
    timeouts: {
      cassandra: world.tiers.cassandra.stats.timeouts,
      redis: world.tiers.redis.stats.timeouts,
      // Of those, requests the tier threw away after waiting longer than drop_queued_after_ms.
      cassandra_dropped: world.tiers.cassandra.stats.dropped,
    },
    // What each tier's load is made of: requests and timeouts per store operation (the cell's own).
    tier_operations: { cassandra: world.tiers.cassandra.operations, redis: world.tiers.redis.operations },
    errors: Object.fromEntries([...collector.errors].sort()),
    pushes: world.backends.pushesSent,
    measured_capacity: f.capacity.measured ?? null,
    capacity: f.capacity.capacity ? { rows: f.capacity.capacity.rows, measured_source: f.capacity.capacity.measuredSource } : null,
    reproduce: f.reproduce,
    notes: f.notes,
  };
}

/** Queue depths at the end of the run and at their peaks. */
function depthsOf({ collector, world }: SimRun) {
  return {
    inbox_end: world.backends.inbox.totalDepth,
    inbox_peak: Math.max(0, ...collector.series.map((p) => p.inbox_depth)),
    gateway_backlog_ms_peak: Math.max(0, ...world.gateways.map((g) => round(g.cpu.waitPeakMs))),
    cassandra_queue_peak: world.tiers.cassandra.stats.queuedPeak,
    redis_queue_peak: world.tiers.redis.stats.queuedPeak,
    // Every gateway has a write-ahead log; entries are sends taken while the store was out.
    wal: {
      end: collector.walDepth() ?? 0,
      peak: collector.walDepthPeak,
      appended: collector.walAppends,
      replayed: collector.walReplays.get('stored') ?? 0,
      duplicate: collector.walReplays.get('duplicate') ?? 0,
      refused: collector.walReplays.get('rejected') ?? 0,
    },
  };
}

/** Busy share of each gateway's cores and of each tier's servers over the simulated run. */
function utilisationOf({ plan, world }: SimRun, simulatedMs: number) {
  const tierUtil = (t: Pick<ServiceTier, 'stats' | 'model'>) =>
    Math.round((t.stats.busyMs / (t.model.concurrency * simulatedMs)) * 10_000) / 10_000;
  const gatewayUtil = world.gateways.map((g) => g.cpu.busyMs / (plan.scenario.sim.gateway.cores * simulatedMs));
  return {
    gateways: gatewayUtil.map((u) => Math.round(u * 10_000) / 10_000),
    cassandra: tierUtil(world.tiers.cassandra),
    redis: tierUtil(world.tiers.redis),
    s3: tierUtil(world.tiers.s3),
    push: tierUtil(world.tiers.push),
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

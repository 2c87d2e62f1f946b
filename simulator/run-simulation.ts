import { checkHistory, type CheckResult } from '../checker/index.js';
import { latencyFigures, summarizeViolations, exitCodeOf, type RunSummary } from '../checker/run-summary.js';
import type { Violation } from '../checker/violation.js';
import type { Scenario } from '../scenarios/format/index.js';
import { resolveLimits } from '../system/core/limits.js';
import { silentLogger } from '../system/ports/logger.js';
import type { MessageStore } from '../system/ports/message-store.js';
import { StreamingCheck } from './check/streaming-check.js';
import { HistoryTap } from './check/history-tap.js';
import { compareCapacity, formatCapacityComparison, type CapacityComparison } from './capacity/index.js';
import { Scheduler } from '../system/adapters/virtual/scheduler.js';
import { judgeSlos } from './report/judge-slos.js';
import { measuredCapacityOf } from './report/measured-capacity.js';
import { FaultInjector, type FaultRecord } from './faults/fault-injector.js';
import { planFaults } from './faults/fault-plan.js';
import { RunCollector, type SeriesPoint } from './report/collector.js';
import { Workload } from './workload/workload.js';
import { formatCellSlice, scenarioOfCell, seedOfCell, type CellSlice } from './cells/cell-slice.js';
import { SimWorld } from '../system/worlds/simulated/sim-world.js';

export interface SimOptions {
  scenario: Scenario;
  /** Overrides the scenario's seed. */
  seed?: number;
  /** How the run is reproduced, for violation reports (the CLI passes its own command line). */
  reproduceCommand?: (seed: number) => string;
  /** Called about once per wall-clock second with progress. */
  onProgress?: (p: SimProgress) => void;
  /** Test seam: wraps the shared message store (planted bugs). */
  wrapBackendMessages?: (store: MessageStore) => MessageStore;
  /**
   * Runs cell `index` of `count` of the population (simulator/cells): that cell's users with their
   * own seed, the scenario's faults from the run's seed, the other cells as background. Replaces
   * the scenario's sim.cell_users.
   */
  cell?: CellSlice;
  /**
   * Aborting ends the safety phase (load and faults) at the current simulated instant; the run
   * then goes on as one that ended there: heal, liveness, check, summary (the caller marks it interrupted).
   */
  signal?: AbortSignal;
  /** Said about the run before it starts (faults a shortened run leaves out): the first of the summary's notes. */
  notes?: readonly string[];
  /** Test seam: changes the world before the load starts (planted bugs in adapters). */
  plant?: (world: SimWorld, workload: Workload) => void;
}

export interface SimProgress {
  simulatedS: number;
  totalS: number;
  phase: 'safety' | 'liveness';
  events: number;
  eventsPerS: number;
  wallS: number;
}

export interface SimResult {
  summary: RunSummary;
  violations: Violation[];
  series: SeriesPoint[];
  faults: FaultRecord[];
  exitCode: number;
  traceHash: string;
  notes: string[];
  reproduce: string;
  /** The capacity model for the scenario's full population, with what this run measured. */
  capacity: CapacityComparison | undefined;
  capacityText: string | undefined;
}

/**
 * With sim.cell_users below the population, one cell of that many users is simulated in detail
 * (simulator/README.md, "Cells"): per-user rates stay, aggregate rates shrink with the cell; the capacity model
 * scales back to the whole population.
 */
export function cellOf(scenario: Scenario): { scenario: Scenario; scale: number } {
  const cell = scenario.sim.cell_users;
  const users = scenario.population.users;
  if (cell === undefined || cell >= users) return { scenario, scale: 1 };
  const scale = users / cell;
  const traffic = scenario.traffic.messages_per_s !== undefined ? { ...scenario.traffic, messages_per_s: scenario.traffic.messages_per_s / scale } : scenario.traffic;
  return { scenario: { ...scenario, population: { ...scenario.population, users: cell }, traffic }, scale };
}

/**
 * Runs one scenario in the simulator: builds the simulated cluster and population, runs the
 * safety phase (load and faults) and the liveness phase (heal, stop load, everything queued must
 * reach the online devices within liveness_bound_s), checks the history with the one checker, and
 * returns the run summary (the shared keys of docs/summaries.md, kind "sim").
 */
export async function runSimulation(options: SimOptions): Promise<SimResult> {
  const wallStart = performance.now();
  const fullScenario = options.cell ? scenarioOfCell(options.scenario, options.cell) : options.scenario;
  const { scenario, scale: cellScale } = cellOf(fullScenario);
  const runSeed = options.seed ?? scenario.seed;
  // A cell job's users and servers draw from the cell's own seed; its faults from the run's.
  const seed = options.cell ? seedOfCell(runSeed, options.cell) : runSeed;
  const sim = scenario.sim;
  const limits = resolveLimits();
  const time = new Scheduler(sim.tick_ms);
  const durationMs = scenario.duration_s * 1000;
  const intervalMs = Math.min(60_000, Math.max(1_000, Math.round(durationMs / 120 / 1000) * 1000));
  const collector = new RunCollector(intervalMs, scenario.warmup_s * 1000);
  const full = sim.checker === 'full' || (sim.checker === 'auto' && scenario.population.users <= sim.full_check_users_max);
  const streaming = full ? undefined : new StreamingCheck({ presenceTtlMs: limits.presenceTtlMs });
  const tap = new HistoryTap(full, streaming);

  const world = new SimWorld({
    scenario,
    seed,
    time,
    metrics: collector,
    log: silentLogger,
    ...(sim.cell_background && cellScale > 1 ? { background: { copies: cellScale - 1, windowMs: sim.cell_background_window_ms } } : {}),
    ...(options.wrapBackendMessages ? { wrapBackendMessages: options.wrapBackendMessages } : {}),
  });
  const workload = new Workload({
    scenario,
    seed,
    time,
    world,
    collector,
    record: (e) => tap.record(e),
    recordLinks: true,
    heartbeatTimeoutMs: limits.heartbeatTimeoutMs,
  });
  await workload.setUp();
  options.plant?.(world, workload);
  // The set-up (linking devices, creating groups) is not part of the measured run.
  for (const tier of Object.values(world.tiers)) tier.resetStats();
  for (const g of world.gateways) g.resetStats();
  collector.resetServerCounts();
  const startMs = time.nowMs();
  const faults = planFaults(scenario, runSeed);
  const injector = new FaultInjector(time, world, workload, startMs);
  injector.validate(faults);
  injector.schedule(faults);
  workload.start(Math.max(scenario.warmup_s * 1000, 1_000));

  // Time series: one point per interval, with the depths the world shows at its end and the queues' peaks within it.
  let sampling = true;
  let heapPeak = process.memoryUsage().heapUsed;
  const busyShare = intervalBusyShares(world, scenario.sim.gateway.cores, intervalMs);
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
    injector.markRecovered(() => last.deliver_p99_ms < scenario.slo.deliver_p99_ms && last.acked_per_s > 0);
    time.schedule(intervalMs, sample);
  };
  time.schedule(intervalMs, sample);

  const totalS = scenario.duration_s + scenario.liveness_bound_s;
  // Progress rates count from the start of the load: the set-up is not simulated time.
  const loadWallStart = performance.now();
  const loadEventsStart = time.eventsRun;
  let lastProgressWall = performance.now();
  let phase: SimProgress['phase'] = 'safety';
  const onInstant = () => {
    const now = performance.now();
    if (now - lastProgressWall < 1_000) return;
    lastProgressWall = now;
    const heap = process.memoryUsage().heapUsed;
    if (heap > heapPeak) heapPeak = heap;
    const wallS = (now - loadWallStart) / 1000;
    const events = time.eventsRun - loadEventsStart;
    options.onProgress?.({ simulatedS: (time.nowMs() - startMs) / 1000, totalS, phase, events, eventsPerS: events / wallS, wallS });
  };

  // Safety phase: load and faults (ended early by options.signal).
  const endSafetyPhase = () => time.stop();
  options.signal?.addEventListener('abort', endSafetyPhase, { once: true });
  if (!options.signal?.aborted) await time.run(startMs + durationMs, onInstant);
  options.signal?.removeEventListener('abort', endSafetyPhase);
  const loadEndMs = time.nowMs();

  // Liveness phase: heal, stop sending; the online devices must catch up within the bound.
  phase = 'liveness';
  injector.close();
  injector.healAll();
  for (const g of world.gateways) g.restart();
  workload.stopLoad(sim.liveness.reconnect_all);
  const notes: string[] = [...(options.notes ?? [])];
  const boundMs = loadEndMs + scenario.liveness_bound_s * 1000;
  let converged = false;
  let waitingOn: string | undefined;
  while (time.nowMs() < boundMs) {
    await time.run(Math.min(boundMs, time.nowMs() + 2_000), onInstant);
    const state = await workload.caughtUp();
    waitingOn = state.waitingOn;
    if (state.done) {
      converged = true;
      break;
    }
  }
  const convergedAtS = (time.nowMs() - loadEndMs) / 1000;
  if (!converged) notes.push(`liveness: not caught up ${scenario.liveness_bound_s} s after healing (${waitingOn ?? '?'})`);
  tap.record({ type: 'quiesce', atMs: time.nowMs(), devices: workload.onlineDeviceList() });
  sampling = false;
  const simulatedMs = time.nowMs() - startMs;
  const heapNow = process.memoryUsage().heapUsed;
  if (heapNow > heapPeak) heapPeak = heapNow;

  // Checks.
  const check: CheckResult = full
    ? checkHistory(tap.events!, { presenceTtlMs: limits.presenceTtlMs })
    : streaming!.finish();
  notes.push(...check.notes);
  const totalViolations = Object.values(check.counts).reduce((a, b) => a + b, 0);
  const latency = collector.latency();
  const slo = judgeSlos(scenario, { latency, violations: totalViolations, errorRate: collector.sent > 0 ? collector.rejected / collector.sent : 0, converged });

  const wallS = (performance.now() - wallStart) / 1000;
  const cellFlag = options.cell ? ` --cell ${formatCellSlice(options.cell)}` : '';
  const reproduce = options.reproduceCommand ? options.reproduceCommand(runSeed) : `npm run sim -- scenarios/${scenario.name}.yaml --seed ${runSeed}${cellFlag}`;
  const elapsedS = simulatedMs / 1000;
  const tierUtil = (t: { stats: { busyMs: number }; model: { concurrency: number } }) => Math.round((t.stats.busyMs / (t.model.concurrency * simulatedMs)) * 10_000) / 10_000;
  const gatewayUtil = world.gateways.map((g) => g.cpu.busyMs / (scenario.sim.gateway.cores * simulatedMs));
  let framesPerGateway = 0;
  let busyMsPerGateway = 0;
  for (const g of world.gateways) {
    framesPerGateway += (g.framesIn + g.framesOut) / world.gateways.length;
    busyMsPerGateway += g.cpu.busyMs / world.gateways.length;
  }
  const measured = measuredCapacityOf({ framesPerGateway, busySecondsPerGateway: busyMsPerGateway / 1000 }, `${reproduce} (simulated CPU model)`);
  let capacity: CapacityComparison | undefined;
  let capacityText: string | undefined;
  try {
    capacity = compareCapacity(fullScenario, measured ? { measured } : {});
    capacityText = formatCapacityComparison(capacity);
  } catch (error) {
    notes.push(`capacity model not derived: ${(error as Error).message}`);
  }
  const summary: RunSummary = {
    kind: 'sim',
    scenario: scenario.name,
    seed: runSeed,
    users: scenario.population.users,
    ...(cellScale > 1 || options.cell
      ? {
          cell: {
            users: scenario.population.users,
            of_users: fullScenario.population.users,
            scale: round(cellScale),
            background: sim.cell_background,
            ...(options.cell ? { index: options.cell.index, count: options.cell.count, seed, duration_s: scenario.duration_s } : {}),
          },
        }
      : {}),
    devices: workload.population.devices,
    messages: { sent: collector.sent, acked: collector.acked, delivered: collector.delivered },
    latency_ms: { ack: latencyFigures(latency.ack), deliver: latencyFigures(latency.deliver) },
    invariants: summarizeViolations(check.checked, check.violations, totalViolations),
    slo,
    faults: injector.records.map(({ random: _random, ...f }) => f),
    wall_s: round(wallS),
    sim: {
      simulated_s: round(elapsedS),
      events: time.eventsRun,
      events_per_s: Math.round(time.eventsRun / wallS),
      heap_bytes_peak: heapPeak,
      trace_hash: tap.trace.digest(),
      simulated_per_wall: round(elapsedS / wallS),
      setup_wall_s: round((loadWallStart - wallStart) / 1000),
      setup_events: loadEventsStart,
      cpu_s: round((process.cpuUsage().user + process.cpuUsage().system) / 1e6),
      bytes_per_user: Math.round(heapPeak / scenario.population.users),
      history_events: tap.count,
      checker: full ? 'full' : 'streaming',
      liveness: { converged, converged_after_s: converged ? round(convergedAtS) : null, bound_s: scenario.liveness_bound_s },
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
    depths: {
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
    },
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
    utilisation: {
      gateways: gatewayUtil.map((u) => Math.round(u * 10_000) / 10_000),
      cassandra: tierUtil(world.tiers.cassandra),
      redis: tierUtil(world.tiers.redis),
      s3: tierUtil(world.tiers.s3),
      push: tierUtil(world.tiers.push),
    },
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
    measured_capacity: measured ?? null,
    capacity: capacity ? { rows: capacity.rows, measured_source: capacity.measuredSource } : null,
    reproduce,
    notes,
  };
  collector.destroy();
  return {
    summary,
    violations: check.violations,
    series: collector.series,
    faults: injector.records,
    exitCode: exitCodeOf(summary),
    traceHash: tap.trace.digest(),
    notes,
    reproduce,
    capacity,
    capacityText,
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
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

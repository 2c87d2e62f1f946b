/**
 * Runs one chaos drill: starts (or attaches to) the topology, runs the drill's load through the
 * live load driver (`runLoad`), injects and heals the faults on schedule while watching the abort
 * rule, then judges the run: the invariants over the recorded history (nothing lost, reordered or
 * duplicated), the steady-state SLOs outside fault windows, and the recovery time of each fault.
 */
import type { HistoryEvent } from '../checker/history.js';
import { latencyFigures, type RunSummary } from '../checker/run-summary.js';
import type { Objective } from '../checker/slo.js';
import { nowEpochMs } from '../load/measurements.js';
import { LoadErrorCodes, runLoad, type LoadSample, type RunLoadOptions } from '../load/run-load.js';
import { ChaosErrorCodes } from './error-codes.js';
import { faultAction, type FaultAction } from './faults/fault-injector.js';
import { FaultSchedule, type FaultRecord } from './faults/fault-schedule.js';
import type { Drill } from './format/read-drill.js';
import { AbortMonitor } from './timeline/abort-monitor.js';
import { baselineOf, recoveredAt, recoveryP99LimitMs, type Baseline } from './timeline/recovery.js';
import { steadyStateLatency, type DisturbedWindow } from './timeline/steady-state.js';
import type { Topology } from './topology/topology.js';
import { ToolError } from '../cli/tool-error.js';

/** The load driver's own refusals, reported as the drill's LOAD_FAILED. */
const LOAD_ERROR_CODES: readonly string[] = Object.values(LoadErrorCodes);

export interface RunDrillOptions {
  /** Starts (or attaches to) the system under test; closed by runDrill when it is done. */
  topology: () => Promise<Topology>;
  /** `local` or `compose`: written into the summary. */
  targetKind: string;
  runId?: string;
  log?: (line: string) => void;
  /** Aborting ends the drill early like the abort rule does (heal, settle, check, stop the topology). */
  signal?: AbortSignal;
  /** Extra load-driver options (tests: plantDroppedDelivery, …). */
  load?: Partial<RunLoadOptions>;
}

/** A fault as reported: the shared RunSummary keys plus how it was injected and how long recovery took. */
export interface FaultReport {
  kind: string;
  target: string;
  at_s: number;
  healed_s: number | null;
  recovered_s: number | null;
  /** Seconds from the heal (or from the injection, for crashes) until recovered; null if it did not recover. */
  time_to_recover_s: number | null;
  recovery_measured_from: 'injected' | 'healed';
  how: string;
  error?: string;
}

export interface DrillResult {
  summary: RunSummary;
  exitCode: number;
  timeSeries: LoadSample[];
  faults: FaultReport[];
  /** Why the drill could not be carried out as written (an injection failed): exit 3. */
  error?: string;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export async function runDrill(drill: Drill, options: RunDrillOptions): Promise<DrillResult> {
  const log = options.log ?? (() => {});
  const runId = options.runId ?? `${drill.name.slice(0, 20)}-${Date.now().toString(36)}`;
  const wallStartMs = Date.now();
  const topology = await options.topology();
  let schedule: FaultSchedule | undefined;
  let maxDurationTimer: ReturnType<typeof setTimeout> | undefined;
  try {
    for (const line of topology.describe()) log(line);
    let actions: FaultAction[];
    try {
      actions = drill.faults.map((f) => faultAction(f, topology));
    } catch (error) {
      if (error instanceof ToolError) throw error;
      throw new ToolError(ChaosErrorCodes.FAULT_NOT_INJECTABLE, (error as Error).message);
    }
    const activeSchedule = new FaultSchedule(drill.faults, actions, log);
    schedule = activeSchedule;
    const monitor = new AbortMonitor(drill.abort);
    const stopTraffic = new AbortController();
    let originMs: number | undefined;
    const abort = (reason: string) => {
      if (stopTraffic.signal.aborted) return;
      log(`ABORT: ${reason}; healing every fault and ending the load`);
      monitor.reason ??= reason;
      stopTraffic.abort();
      void activeSchedule.healAll();
    };
    if (options.signal?.aborted) abort('interrupted');
    options.signal?.addEventListener('abort', () => abort('interrupted'), { once: true });
    maxDurationTimer = setTimeout(
      () => abort(`max_duration_s (${drill.abort.max_duration_s} s) reached`),
      drill.abort.max_duration_s * 1000,
    );

    let result;
    try {
      result = await runLoad(drill.scenario, {
        ...options.load,
        runId,
        targets: topology.targets,
        ...(topology.tokenSecret ? { tokenSecret: topology.tokenSecret } : {}),
        faults: 'caller',
        signal: stopTraffic.signal,
        log,
        onProgress: (progress) => {
          options.load?.onProgress?.(progress);
          if (originMs === undefined && progress.phase === 'traffic') {
            originMs = nowEpochMs() - progress.elapsedS * 1000;
            activeSchedule.start(originMs);
          }
          // Faults belong to the traffic phase; the settle phase runs on a healed system.
          if (progress.phase === 'settle') void activeSchedule.healAll();
        },
        timeSeries: {
          record: (sample) => {
            const callerSink = options.load?.timeSeries;
            if (callerSink && 'record' in callerSink) callerSink.record(sample);
            const reason = monitor.observe(sample);
            if (reason) abort(reason);
          },
        },
      });
    } catch (error) {
      if (error instanceof ToolError && LOAD_ERROR_CODES.includes(error.code))
        throw new ToolError(ChaosErrorCodes.LOAD_FAILED, `${error.code}: ${error.message}`, { cause: error });
      throw error;
    }
    clearTimeout(maxDurationTimer);
    await activeSchedule.healAll();
    const peaks = topology.gateways.map((g) => g.peakRssBytes?.());
    return judge(drill, {
      gatewayPeakRssBytes: peaks.every((p): p is number => p !== undefined) ? peaks : undefined,
      runId,
      targetKind: options.targetKind,
      topologyLines: topology.describe(),
      loadSummary: result.summary,
      history: result.history,
      timeSeries: result.timeSeries,
      originMs: originMs ?? result.trafficStartedAtMs,
      records: [...activeSchedule.records, ...surgeRecords(drill, result.timeSeries)],
      aborted: monitor.reason,
      wallS: (Date.now() - wallStartMs) / 1000,
    });
  } finally {
    clearTimeout(maxDurationTimer);
    await schedule?.healAll().catch(() => {});
    await topology.close();
  }
}

/**
 * The drill's surges as fault records, for the judge: the load driver ran them (scenario spikes),
 * from the traffic's start, so they began and ended on schedule unless the run ended first.
 */
export function surgeRecords(drill: Drill, timeSeries: readonly LoadSample[]): FaultRecord[] {
  const lastS = timeSeries.length > 0 ? timeSeries[timeSeries.length - 1]!.atS : 0;
  return drill.surges.map((s) => {
    const endS = s.at_s + s.duration_s;
    return {
      kind: 'load_surge',
      target: 'clients',
      how: `offered load ×${s.multiplier} for ${s.duration_s} s (the load driver)`,
      planned_at_s: s.at_s,
      planned_heal_s: endS,
      at_s: lastS >= s.at_s ? s.at_s : null,
      healed_s: lastS >= endS ? endS : null,
      recoveryFrom: 'healed',
    };
  });
}

interface JudgeInput {
  /** Peak resident set of each gateway (every incarnation), when the topology can tell. */
  gatewayPeakRssBytes?: number[] | undefined;
  runId: string;
  targetKind: string;
  topologyLines: string[];
  loadSummary: RunSummary;
  history: readonly HistoryEvent[];
  timeSeries: LoadSample[];
  originMs: number;
  records: readonly FaultRecord[];
  aborted: string | undefined;
  wallS: number;
}

/** Recovery per fault, steady-state SLOs, invariants: the drill's verdict. Pure given its input. */
export function judge(drill: Drill, input: JudgeInput): DrillResult {
  const warmupS = drill.scenario.warmup_s;
  const injected = input.records.filter((r): r is FaultRecord & { at_s: number } => r.at_s !== null);
  const firstFaultS = Math.min(...injected.map((r) => r.at_s), drill.scenario.duration_s);
  const baseline: Baseline | undefined = baselineOf(input.timeSeries, warmupS, firstFaultS);
  const rule = drill.recovery;
  const faults: FaultReport[] = injected.map((r) => {
    const fromS = r.recoveryFrom === 'injected' ? r.at_s : r.healed_s;
    const recovered = fromS === null || baseline === undefined ? null : recoveredAt(input.timeSeries, fromS, baseline, rule);
    return {
      kind: r.kind,
      target: r.target,
      at_s: r.at_s,
      healed_s: r.healed_s,
      recovered_s: recovered,
      time_to_recover_s: recovered === null || fromS === null ? null : round1(recovered - fromS),
      recovery_measured_from: r.recoveryFrom,
      how: r.how,
      ...(r.error ? { error: r.error } : {}),
    };
  });
  const windows: DisturbedWindow[] = faults.map((f) => ({ fromS: f.at_s, untilS: f.recovered_s }));
  const steady = steadyStateLatency(input.history, input.originMs, warmupS, windows);
  const disturbed = (atS: number) => atS < warmupS || windows.some((w) => atS - 1 < (w.untilS ?? Infinity) && atS > w.fromS);
  const steadySamples = input.timeSeries.filter((s) => s.offeredPerS > 0 && !disturbed(s.atS));
  const steadySent = steadySamples.reduce((sum, s) => sum + s.sentPerS, 0);
  const steadyErrors = steadySamples.reduce((sum, s) => sum + s.errorsPerS, 0);

  const objectives: Objective[] = [];
  const slo = drill.steadyState;
  const deliverP99 = steady.deliver.count > 0 ? round1(steady.deliver.p99) : null;
  objectives.push({
    name: 'steady.deliver.p99',
    target: `< ${slo.deliver_p99_ms} ms`,
    actual: deliverP99,
    passed: deliverP99 !== null && deliverP99 < slo.deliver_p99_ms,
  });
  if (slo.ack_p99_ms !== undefined) {
    const ackP99 = steady.ack.count > 0 ? round1(steady.ack.p99) : null;
    objectives.push({
      name: 'steady.ack.p99',
      target: `< ${slo.ack_p99_ms} ms`,
      actual: ackP99,
      passed: ackP99 !== null && ackP99 < slo.ack_p99_ms,
    });
  }
  if (slo.error_rate_max !== undefined) {
    const rate = steadySent > 0 ? steadyErrors / steadySent : 0;
    objectives.push({
      name: 'steady.error.rate',
      target: `<= ${slo.error_rate_max}`,
      actual: Math.round(rate * 1e4) / 1e4,
      passed: rate <= slo.error_rate_max,
    });
  }
  const violations = input.loadSummary.invariants.violations;
  objectives.push({
    name: 'invariant.violations',
    target: `<= ${slo.violations_max}`,
    actual: violations,
    passed: violations <= slo.violations_max,
  });
  for (const f of faults) {
    objectives.push({
      name: `recovery ${f.kind} ${f.target} @${f.at_s}s`,
      target: `<= ${rule.bound_s} s`,
      actual: f.time_to_recover_s,
      passed: f.time_to_recover_s !== null && f.time_to_recover_s <= rule.bound_s,
    });
  }
  const peakRssMb = input.gatewayPeakRssBytes?.map((b) => Math.round((b / (1024 * 1024)) * 10) / 10);
  if (drill.memory) {
    const limitMb = drill.memory.gateway_peak_rss_mb_max;
    const worst = peakRssMb && peakRssMb.length > 0 ? Math.max(...peakRssMb) : null;
    objectives.push({ name: 'gateway.peak_rss_mb', target: `< ${limitMb} MB`, actual: worst, passed: worst !== null && worst < limitMb });
  }
  objectives.push({ name: 'drill.not_aborted', target: 'no abort', actual: input.aborted ? 1 : 0, passed: input.aborted === undefined });

  const notRun = input.records
    .filter((r) => r.at_s === null)
    .map((r) => ({ kind: r.kind, target: r.target, planned_at_s: r.planned_at_s }));
  const errors = input.records.filter((r) => r.error).map((r) => `${r.kind} on ${r.target}: ${r.error}`);
  const { kind: _kind, slo: _loadSlo, faults: _loadFaults, wall_s: _wall, ...loadKeys } = input.loadSummary;
  const summary: RunSummary = {
    ...loadKeys,
    kind: 'chaos',
    slo: { passed: objectives.every((o) => o.passed), objectives },
    faults,
    wall_s: round1(input.wallS),
    drill: drill.name,
    drill_file: drill.source,
    target: input.targetKind,
    topology: input.topologyLines,
    run_id: input.runId,
    aborted: input.aborted ?? null,
    faults_not_run: notRun,
    injection_errors: errors,
    baseline: baseline
      ? {
          delivered_per_s: round1(baseline.deliveredPerS),
          delivered_per_offered: Math.round(baseline.deliveredPerOffered * 1000) / 1000,
          deliver_p99_ms: baseline.deliverP99Ms === null ? null : round1(baseline.deliverP99Ms),
          recovery_p99_limit_ms: round1(recoveryP99LimitMs(baseline, rule)),
          seconds: baseline.seconds,
        }
      : null,
    recovery_rule: rule,
    gateway_peak_rss_mb: peakRssMb ?? null,
    surges: drill.surges,
    steady_state_latency_ms: {
      ack: latencyFigures(steady.ack),
      deliver: latencyFigures(steady.deliver),
      counts: { ack: steady.ack.count, deliver: steady.deliver.count },
    },
    timeline: input.timeSeries.map((s) => ({
      at_s: s.atS,
      offered_per_s: s.offeredPerS,
      sent_per_s: s.sentPerS,
      acked_per_s: s.ackedPerS,
      delivered_per_s: s.deliveredPerS,
      errors_per_s: s.errorsPerS,
      refused_per_s: s.refusedPerS,
      deliver_p50_ms: s.deliverP50Ms,
      deliver_p99_ms: s.deliverP99Ms,
      ack_p99_ms: s.ackP99Ms,
      connections: s.connections,
    })),
  };
  const exitCode = errors.length > 0 ? 3 : violations > 0 ? 1 : summary.slo.passed ? 0 : 2;
  return {
    summary,
    exitCode,
    timeSeries: input.timeSeries,
    faults,
    ...(errors.length > 0 ? { error: `faults could not be carried out: ${errors.join('; ')}` } : {}),
  };
}

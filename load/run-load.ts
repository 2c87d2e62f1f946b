/**
 * The live load driver's programmatic API: `runLoad(scenario, options)` runs one scenario (or one
 * shard of it) against a target speaking the chat protocol — or against the embedded reference
 * system started in-process — checks the recorded history with the shared checker, gates the SLOs
 * and returns the run summary. `npm run load` (main.ts) and chaos drills are built on it.
 *
 * Phases: setup (every device connects once, so it exists; groups are created), traffic
 * (open-model sends, churn, reads, media for `duration_s`), settle (churn stops, every device
 * reconnects, wait until everything is delivered, at most `liveness_bound_s`), check.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { checkHistory } from '../checker/index.js';
import type { History } from '../checker/history.js';
import { messagesPerSAt, type Scenario } from '../scenarios/format/index.js';
import { resolveLiveSection } from '../scenarios/format/live-section.js';
import { HistoryRecorder, isChatClientError, type HistorySink } from '../sdk/index.js';
import { SeededRandom } from '../system/adapters/virtual/seeded-random.js';
import { Churn } from './churn.js';
import { DeviceFleet } from './device-fleet.js';
import { DriverMetrics } from './driver-metrics.js';
import { RemoteWritePusher } from './remote-write.js';
import { startEmbeddedTarget, type EmbeddedTarget } from './embedded-target.js';
import { LoadErrorCodes } from './error-codes.js';
import { LoadMeasurements, nowEpochMs } from './measurements.js';
import { MediaDownloads } from './media-downloads.js';
import { MembershipChanges } from './membership-changes.js';
import { RecorderObserver, fanOut } from './recorder-observer.js';
import { buildPlan, planForShard, type PlannedGroup } from './plan.js';
import { EncryptionLayer, codeOf } from './encryption.js';
import { planEncryption } from './encryption-plan.js';
import { DroppingHistorySink } from './planted-fault.js';
import { prometheusObjectives, type PrometheusEvaluation } from './prometheus-slo.js';
import { waitForQuiescence, type QuiescenceResult } from './quiescence.js';
import { runOpenModelSchedule } from './schedule.js';
import { shardLabel, WHOLE_RUN } from './shard.js';
import { evaluateObjectives, objectivesOf, parseSloOverrides, withOverrides } from './slo-gate.js';
import { buildLoadSummary } from './summary.js';
import { devTokenProvider, httpUrlOf, signedTokenProvider } from './tokens.js';
import { TrafficGenerator, groupNameOf } from './traffic.js';
import type { LoadOptions, LoadProgress, LoadRunResult, LoadSample, TokenProvider } from './types.js';
import { exitCodeOf } from '../checker/run-summary.js';
import { ToolError } from '../cli/tool-error.js';

export type * from './types.js';
export { LoadErrorCodes } from './error-codes.js';

/** Groups created at once during setup. */
const GROUP_CREATE_CONCURRENCY = 16;
/** A member owned by another shard may not exist yet: retry UNKNOWN_USER this often, this far apart. */
const GROUP_CREATE_ATTEMPTS = 20;
const GROUP_CREATE_RETRY_MS = 500;
const RUN_ID_PATTERN = /^[A-Za-z0-9_.-]{1,40}$/;
/** A device that is not welcomed within this at setup or settle counts as a failed connect. */
const CONNECT_TIMEOUT_MS = 30_000;
/** The first connection proves the target is there; this long without a welcome = unreachable. */
const PROBE_TIMEOUT_MS = 10_000;
/** After settling, decryptions still in the MLS sessions' lanes get this long before they count as failures. */
const DECRYPT_DRAIN_MS = 10_000;

export interface RunLoadOptions extends LoadOptions {
  /** Prefix of every user id; shards of one run must share it. Default: scenario name + time. */
  runId?: string;
  /** Label matchers added to every PromQL selector (e.g. `job="chat"`). */
  prometheusSelector?: string;
  /**
   * An embedded target the caller started and stops (`--serve` keeps it up after the run); used
   * instead of starting one when there are no `targets`.
   */
  embedded?: EmbeddedTarget;
}

export async function runLoad(scenario: Scenario, options: RunLoadOptions = {}): Promise<LoadRunResult> {
  const wallStartMs = performance.now();
  const log = options.log ?? (() => undefined);
  const live = resolveLiveSection(scenario.live);
  const shard = options.shard ?? WHOLE_RUN;
  const durationS = options.durationS ?? scenario.duration_s;
  if (!(durationS > 0)) throw new ToolError(LoadErrorCodes.BAD_OPTION, `duration must be > 0 s, got ${durationS}`);
  const faultHandling = options.faults ?? live.faults;
  if (scenario.faults.length > 0 && faultHandling === 'refuse') {
    throw new ToolError(
      LoadErrorCodes.FAULTS_NOT_INJECTED,
      `scenario ${scenario.name} lists ${scenario.faults.length} fault(s) (${scenario.faults.map((f) => f.kind).join(', ')}); ` +
        'the load driver does not inject faults: run it as a chaos drill (npm run chaos), or pass --faults skip to run the load without them',
    );
  }
  const sloSpecs = withOverrides(objectivesOf(scenario.slo), parseSloOverrides(options.slo ?? {}));
  if (shard.count > 1 && options.runId === undefined) {
    throw new ToolError(LoadErrorCodes.BAD_OPTION, 'sharded runs need a --run-id shared by every shard (their users must agree)');
  }
  const runId = options.runId ?? `${scenario.name.slice(0, 24)}-${Date.now().toString(36)}`;
  if (!RUN_ID_PATTERN.test(runId)) throw new ToolError(LoadErrorCodes.BAD_OPTION, `run id must be 1-40 of A-Z a-z 0-9 _ . -, got "${runId}"`);

  let embedded: EmbeddedTarget | undefined;
  let targets = options.targets ?? [];
  let tokenFor: TokenProvider | undefined = options.tokenFor;
  if (targets.length === 0) {
    embedded = options.embedded ?? (await startEmbeddedTarget());
    targets = [embedded.wsUrl];
    tokenFor ??= signedTokenProvider(embedded.tokenSecret);
    log(`embedded system on ${embedded.wsUrl} (one gateway; scenario topology ${scenario.topology.gateways})`);
  }
  tokenFor ??= options.tokenSecret ? signedTokenProvider(options.tokenSecret) : devTokenProvider(httpUrlOf(targets[0]!));

  const metrics = new DriverMetrics({ shard: shardLabel(shard), scenario: scenario.name });
  const sink = options.timeSeries;
  const recorderObserver = sink && 'latency' in sink ? new RecorderObserver(sink) : undefined;
  const observer = recorderObserver ? fanOut([metrics, recorderObserver]) : metrics;
  const measurements = new LoadMeasurements(observer);
  const recorder = new HistoryRecorder();
  const dropper = options.plantDroppedDelivery ? new DroppingHistorySink(recorder, options.plantDroppedDelivery) : undefined;
  const history: HistorySink = dropper ?? recorder;
  const shardSeed = (scenario.seed * 1_000_003 + shard.index) >>> 0;
  const random = new SeededRandom(shardSeed);
  const plan = buildPlan(scenario, runId);
  const shardPlan = planForShard(plan, shard);
  const encryption = scenario.traffic.encrypted_share > 0 ? new EncryptionLayer(planEncryption(scenario, plan, shard), measurements, log) : undefined;

  const downloads = new MediaDownloads(live.media_downloads, random, measurements, (id) => encryption?.isEncryptedConversation(id) ?? false);
  // The fleet's handlers reach the traffic generator, which needs the fleet: tied after both exist.
  const handlersTo: { traffic?: TrafficGenerator } = {};
  const fleet = new DeviceFleet(shardPlan.users, {
    targets,
    tokenFor,
    history,
    ...(live.source_addresses ? { sourceAddresses: live.source_addresses } : {}),
    validateFrames: live.validate_frames,
    presence: live.presence,
    pushTokens: live.push_tokens,
    ...(encryption ? { onClient: (device, client) => encryption.attach(device, client) } : {}),
    handlers: {
      event: (device, event, via) => {
        handlersTo.traffic?.onEvent(device, event, via);
        downloads.onEvent(device, event);
      },
      receipt: (device, receipt) => handlersTo.traffic?.onReceipt(device, receipt),
      connections: (open) => observer.connections(open),
      error: (code) => measurements.onError(code),
      refused: (code) => measurements.onRefused(code),
    },
  });
  const traffic = new TrafficGenerator({
    scenario,
    runId,
    plan,
    shardPlan,
    fleet,
    measurements,
    random,
    ...(encryption ? { encryption } : {}),
    ...(options.plaintextMarker ? { plaintextMarker: options.plaintextMarker } : {}),
  });
  handlersTo.traffic = traffic;
  const membershipChanges =
    live.membership_changes > 0
      ? new MembershipChanges({
          count: live.membership_changes,
          durationS,
          groups: shardPlan.groupsToCreate.filter((g) => g.trafficShare === undefined && !encryption?.plan.groupIndexes.has(g.index)),
          userIds: plan.users.map((u) => u.userId),
          fleet,
          traffic,
          random,
        })
      : undefined;
  const churn = new Churn(fleet, scenario, random, (device) => encryption?.isEncryptedUser(device.user.userId) ?? false);
  const metricsUrl = options.metricsPort !== undefined ? await metrics.serve(options.metricsPort) : undefined;
  if (metricsUrl) log(`driver metrics on ${metricsUrl}`);
  // Series carry the run id: two runs pushing into one Prometheus never write into one series.
  const remoteWrite = options.remoteWrite ? new RemoteWritePusher(metrics.registry, { ...options.remoteWrite, labels: { run_id: runId }, log }) : undefined;
  remoteWrite?.start();

  const timeSeries: LoadSample[] = [];
  let phase: LoadProgress['phase'] = 'setup';
  const enter = (next: LoadProgress['phase']) => {
    phase = next;
    options.onPhase?.(next);
  };
  let trafficStartMs = Number.NaN;
  let offeredPerS = 0;
  const connectFailures: Record<string, number> = {};
  let connectAttempts = 0;
  let groupsCreated = 0;
  const groupFailures: Record<string, number> = {};
  let trafficEndMs = Number.NaN;
  let settledAtMs = Number.NaN;
  let scheduled = 0;
  let quiescence: QuiescenceResult = { quiesced: false, behind: 0, waitedMs: 0, examples: [] };
  let sampler: ReturnType<typeof setInterval> | undefined;
  let pushesRecorded: number | undefined;
  // SDK timers are unref'd; this keeps the process alive while a connect is only waiting to retry.
  const keepAlive = setInterval(() => undefined, 1000);

  try {
    // --- setup: every device connects once (so the user and device exist), then groups.
    log(`run ${runId}, shard ${shardLabel(shard)}: ${shardPlan.users.length} users, ${fleet.devices.length} devices, ${shardPlan.groupsToCreate.length} groups to create`);
    const first = fleet.devices[0];
    if (first) {
      connectAttempts++;
      await fleet.connect(first, PROBE_TIMEOUT_MS).catch((error: unknown) => {
        throw new ToolError(LoadErrorCodes.TARGET_UNREACHABLE, `cannot connect to ${targets.join(', ')}: ${(error as Error).message}`);
      });
    }
    connectAttempts += fleet.devices.length - 1;
    await fleet.connectAll(fleet.devices.slice(1), live.connect_concurrency, CONNECT_TIMEOUT_MS, (_device, error) => {
      const code = isChatClientError(error) ? error.code : 'connect_failed';
      connectFailures[code] = (connectFailures[code] ?? 0) + 1;
      measurements.onError(`connect:${code}`);
    });
    log(`${fleet.online.length} of ${fleet.devices.length} devices connected`);
    if (encryption) {
      await encryption.startSessions();
      await encryption.foundDirectConversations((index) => plan.users[index]!.userId);
    }
    groupsCreated = await createGroups(shardPlan.groupsToCreate, fleet, traffic, plan.users.map((u) => u.userId), runId, groupFailures, encryption);
    if (shardPlan.groupsToCreate.length > 0) log(`${groupsCreated} of ${shardPlan.groupsToCreate.length} groups created`);
    if (encryption) {
      await encryption.waitJoined();
      const e = encryption.report();
      log(`end-to-end encrypted (MLS): ${e.users} users, ${e.devices} devices here, ${e.conversations.direct} 1:1 and ${e.conversations.groups} group conversations; setup ${e.setup_s} s`);
    }

    // --- traffic
    churn.start();
    membershipChanges?.start();
    enter('traffic');
    log(`traffic for ${durationS} s${options.signal?.aborted ? ' (interrupted: ending at once)' : ''}`);
    trafficStartMs = nowEpochMs();
    if (recorderObserver) recorderObserver.originMs = trafficStartMs;
    observer.connections(fleet.online.length);
    measurements.measureFromMs = trafficStartMs + scenario.warmup_s * 1000;
    let last = { sent: 0, acked: 0, delivered: 0, errors: 0, refused: 0 };
    // The driver's own event-loop delay, for the report (only when one is recorded): a saturated
    // driver would make the system look slow.
    const loopDelay = recorderObserver ? monitorEventLoopDelay({ resolution: 10 }) : undefined;
    loopDelay?.enable();
    const takeSample = () => {
      if (loopDelay && recorderObserver) {
        recorderObserver.driverLag(Math.round(loopDelay.percentile(99) / 1e4) / 100);
        loopDelay.reset();
      }
      const atS = Math.round((nowEpochMs() - trafficStartMs) / 100) / 10;
      const now = { sent: measurements.sent, acked: measurements.acked, delivered: measurements.deliveredLive + measurements.deliveredSync, errors: measurements.errorCount, refused: measurements.refusedCount };
      const point: LoadSample = {
        atS,
        connections: fleet.online.length,
        offeredPerS: phase === 'traffic' ? Math.round(offeredPerS * 10) / 10 : 0,
        sentPerS: now.sent - last.sent,
        ackedPerS: now.acked - last.acked,
        deliveredPerS: now.delivered - last.delivered,
        errorsPerS: now.errors - last.errors,
        refusedPerS: now.refused - last.refused,
        deliverP50Ms: measurements.deliver.windowPercentile(50),
        deliverP99Ms: measurements.deliver.windowPercentile(99),
        ackP99Ms: measurements.ack.windowPercentile(99),
      };
      last = now;
      measurements.resetWindows();
      timeSeries.push(point);
      if (sink && 'record' in sink) sink.record(point);
      options.onProgress?.({
        phase,
        elapsedS: atS,
        durationS,
        connections: point.connections,
        devices: fleet.devices.length,
        sent: now.sent,
        acked: now.acked,
        delivered: now.delivered,
        errors: now.errors,
        offeredPerS: point.offeredPerS,
        deliverP99MsWindow: point.deliverP99Ms,
      });
    };
    sampler = setInterval(takeSample, 1000);
    const result = await runOpenModelSchedule({
      durationS,
      ratePerSAt: (atS) => {
        offeredPerS = messagesPerSAt(scenario, atS) * shardPlan.rateShare;
        observer.offered(offeredPerS);
        return offeredPerS;
      },
      send: (scheduledAtMs) => traffic.sendOne(scheduledAtMs),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    scheduled = result.scheduled;
    trafficEndMs = result.endedAtMs;

    // --- settle: everyone back online, wait until every queued message is delivered.
    enter('settle');
    churn.stop();
    await membershipChanges?.stop();
    await traffic.stop();
    const offline = fleet.devices.filter((d) => !d.client);
    connectAttempts += offline.length;
    await fleet.connectAll(offline, live.connect_concurrency, CONNECT_TIMEOUT_MS, () => measurements.onError('connect:settle'));
    const settling = fleet.devices.flatMap((d) => (d.client ? [{ client: d.client, sentTo: d.sentTo, removedFrom: (id: string) => traffic.isRemovedFrom(d.user.userId, id) }] : []));
    quiescence = await waitForQuiescence(settling, scenario.liveness_bound_s * 1000);
    if (encryption) await encryption.drain(DECRYPT_DRAIN_MS);
    await downloads.stop();
    log(quiescence.quiesced ? `settled in ${(quiescence.waitedMs / 1000).toFixed(1)} s` : `not settled after ${scenario.liveness_bound_s} s: ${quiescence.behind} device(s) behind, e.g. ${quiescence.examples.join('; ')}`);
    history.record({
      type: 'quiesce',
      atMs: Date.now(),
      devices: fleet.devices.filter((d) => d.client?.state === 'connected').map((d) => ({ userId: d.user.userId, deviceId: d.deviceId })),
    });
    clearInterval(sampler);
    sampler = undefined;
    takeSample();
    loopDelay?.disable();
    settledAtMs = nowEpochMs();
  } finally {
    clearInterval(keepAlive);
    if (sampler) clearInterval(sampler);
    churn.stop();
    await membershipChanges?.stop();
    await traffic.stop();
    await downloads.stop();
    fleet.closeAll();
    await remoteWrite?.stop();
    await metrics.close();
    // Read before it stops: pushes are the one outcome the clients cannot see.
    if (embedded) pushesRecorded = await embedded.stats().then((s) => s.pushesRecorded, () => undefined);
    if (embedded && embedded !== options.embedded) await embedded.stop();
  }

  // --- check and gate
  enter('check');
  const events: History = recorder.events;
  log(`checking ${events.length} history events`);
  const check = checkHistory(events);
  const checkerViolations = Object.values(check.counts).reduce((a, b) => a + b, 0);
  // A message an encrypted device could not decrypt is as lost to its user as an undelivered one.
  const violations = checkerViolations + (encryption?.failureCount ?? 0);
  const errorRate = measurements.errorCount / Math.max(1, measurements.sent + connectAttempts);
  const latency = {
    ack: measurements.ack.figures(),
    deliver: measurements.deliver.figures(),
    receipt: measurements.receipt.figures(),
    upload: measurements.upload.figures(),
  };
  const objectives = evaluateObjectives(sloSpecs, { latency, violations, errorRate });
  let prometheus: (PrometheusEvaluation & { url: string }) | undefined;
  if (options.prometheusUrl) {
    const windowS = (nowEpochMs() - trafficStartMs) / 1000;
    prometheus = { url: options.prometheusUrl, ...(await prometheusObjectives(options.prometheusUrl, sloSpecs, windowS, options.prometheusSelector)) };
    objectives.push(...prometheus.objectives);
  }
  const summary = buildLoadSummary({
    scenario,
    runId,
    shard,
    targets: embedded ? ['embedded'] : targets,
    durationS,
    users: shardPlan.users.length,
    devices: fleet.devices.length,
    measurements,
    latency,
    check,
    violations: checkerViolations,
    objectives,
    errorRate,
    scheduled,
    trafficS: (trafficEndMs - trafficStartMs) / 1000,
    groups: { planned: shardPlan.groupsToCreate.length, created: groupsCreated, failures: groupFailures },
    churn: { disconnects: churn.disconnects, reconnects: churn.reconnects, reconnect_failures: churn.reconnectFailures },
    connectFailures,
    quiescence,
    historyEvents: events.length,
    media: { uploaded: latency.upload.count, ...downloads.tally },
    ...(membershipChanges ? { membershipChanges: membershipChanges.tally } : {}),
    ...(pushesRecorded !== undefined ? { pushesRecorded } : {}),
    faultsSkipped: faultHandling === 'skip' ? scenario.faults : [],
    ...(prometheus ? { prometheus: { url: prometheus.url, queries: prometheus.queries } } : {}),
    ...(dropper?.dropped ? { plantedDrop: dropper.dropped } : {}),
    ...(encryption ? { encryption: { report: encryption.report(), failures: encryption.failures } } : {}),
    wallS: (performance.now() - wallStartMs) / 1000,
  });
  measurements.destroy();
  encryption?.destroy();
  enter('done');
  return {
    summary,
    history: events,
    timeSeries,
    exitCode: exitCodeOf(summary),
    trafficStartedAtMs: trafficStartMs,
    trafficEndedAtMs: trafficEndMs,
    settledAtMs,
    targets,
  };
}

/** Creates this shard's groups from their creators' devices; returns how many were created. */
async function createGroups(
  groups: readonly PlannedGroup[],
  fleet: DeviceFleet,
  traffic: TrafficGenerator,
  userIds: readonly string[],
  runId: string,
  failures: Record<string, number>,
  encryption: EncryptionLayer | undefined,
): Promise<number> {
  let created = 0;
  let next = 0;
  const worker = async () => {
    while (next < groups.length) {
      const group = groups[next++]!;
      const creatorId = userIds[group.creatorIndex]!;
      const memberIds = group.memberIndexes.map((i) => userIds[i]!);
      const device = fleet.devices.find((d) => d.user.userId === creatorId && d.client);
      if (!device) {
        failures.creator_offline = (failures.creator_offline ?? 0) + 1;
        continue;
      }
      for (let attempt = 1; attempt <= GROUP_CREATE_ATTEMPTS; attempt++) {
        try {
          const name = groupNameOf(runId, group);
          // An all-encrypted group is founded as an MLS group with every member device right away.
          const conversationId = encryption?.plan.groupIndexes.has(group.index)
            ? await encryption.createGroup(device, name, memberIds)
            : (await device.client!.createGroup(name, memberIds)).conversationId;
          traffic.learnGroup(group.index, conversationId, [creatorId, ...memberIds]);
          created++;
          break;
        } catch (error) {
          const code = codeOf(error);
          if (code === 'UNKNOWN_USER' && attempt < GROUP_CREATE_ATTEMPTS) {
            await new Promise((resolve) => setTimeout(resolve, GROUP_CREATE_RETRY_MS));
            continue;
          }
          failures[code] = (failures[code] ?? 0) + 1;
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(GROUP_CREATE_CONCURRENCY, groups.length) }, worker));
  return created;
}


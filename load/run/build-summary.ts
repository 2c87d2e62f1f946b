import type { RunSummary } from '../../checker/run-summary.js';
import { buildLoadSummary } from '../summary.js';
import type { LoadRun } from './build-run.js';
import type { RunCheck } from './check-run.js';
import type { ConnectTally } from './connect-fleet.js';
import type { JudgedObjectives } from './judge-objectives.js';
import type { GroupsOutcome } from './set-up-conversations.js';
import type { SettleOutcome } from './settle-phase.js';
import type { TrafficOutcome } from './traffic-phase.js';

/** What the phases that drive the target found: setup (connect, conversations), traffic and settle. */
export interface DrivenPhases {
  connect: ConnectTally;
  groups: GroupsOutcome;
  traffic: TrafficOutcome;
  settle: SettleOutcome;
}

/** What the phases found, for the summary. */
export interface RunFindings extends DrivenPhases {
  /** Pushes the embedded system recorded (embedded runs only). */
  pushesRecorded: number | undefined;
  check: RunCheck;
  judged: JudgedObjectives;
  wallS: number;
}

/** The summary phase: the run summary (`kind: "load"`, docs/summaries.md) from the run and what its phases found. */
export function buildRunSummary(run: LoadRun, findings: RunFindings): RunSummary {
  const { settings, target, shardPlan, fleet, measurements, churn, downloads, membershipChanges, dropper, encryption } = run;
  const { scenario, runId, shard, durationS, faultHandling } = settings;
  const { connect, groups, traffic, settle, pushesRecorded, check, judged } = findings;
  const { latency, prometheus } = judged;
  return buildLoadSummary({
    scenario,
    runId,
    shard,
    targets: target.embedded ? ['embedded'] : target.targets,
    durationS,
    users: shardPlan.users.length,
    devices: fleet.devices.length,
    measurements,
    latency,
    check: check.result,
    violations: check.checkerViolations,
    objectives: judged.objectives,
    errorRate: judged.errorRate,
    scheduled: traffic.scheduled,
    trafficS: (traffic.endMs - traffic.startMs) / 1000,
    groups,
    churn: { disconnects: churn.disconnects, reconnects: churn.reconnects, reconnect_failures: churn.reconnectFailures },
    connectFailures: connect.failures,
    quiescence: settle.quiescence,
    historyEvents: check.events.length,
    media: { uploaded: latency.upload.count, ...downloads.tally },
    ...(membershipChanges ? { membershipChanges: membershipChanges.tally } : {}),
    ...(pushesRecorded !== undefined ? { pushesRecorded } : {}),
    faultsSkipped: faultHandling === 'skip' ? scenario.faults : [],
    ...(prometheus ? { prometheus: { url: prometheus.url, queries: prometheus.queries } } : {}),
    ...(dropper?.dropped ? { plantedDrop: dropper.dropped } : {}),
    ...(encryption ? { encryption: { report: encryption.report(), failures: encryption.failures } } : {}),
    wallS: findings.wallS,
  });
}

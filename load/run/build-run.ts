import { Churn } from '../churn.js';
import { MembershipChanges } from '../membership-changes.js';
import type { RemoteWritePusher } from '../remote-write.js';
import { exportDriverMetrics } from './export-metrics.js';
import { createInstruments, type RunInstruments } from './instruments.js';
import { planPopulation, type ShardPopulation } from './population.js';
import type { ReachedTarget } from './reach-target.js';
import { RunPhase } from './run-phase.js';
import type { RunSettings } from './run-settings.js';
import { TimeSeriesSampler } from './time-series-sampler.js';
import { wireFleet, type WiredFleet } from './wire-fleet.js';

/**
 * The built run every later phase works on: its settings and target, what measures it, its
 * population, and the parts that act (the device fleet, the traffic, churn, membership changes,
 * media downloads, the encryption layer), none of them started yet.
 */
export interface LoadRun extends RunInstruments, ShardPopulation, WiredFleet {
  readonly settings: RunSettings;
  readonly target: ReachedTarget;
  readonly phase: RunPhase;
  /** Admins adding and removing members during the traffic (live.membership_changes). */
  readonly membershipChanges: MembershipChanges | undefined;
  /** Devices going offline and back during the traffic. */
  readonly churn: Churn;
  readonly sampler: TimeSeriesSampler;
  /** Pushes the driver's metrics to a Prometheus remote-write endpoint, when asked to. */
  readonly remoteWrite: RemoteWritePusher | undefined;
}

/**
 * The build phase: the instruments, this shard's part of the population, its device fleet and
 * what drives it; then the driver's own metrics are exported.
 */
export async function buildRun(settings: RunSettings, target: ReachedTarget): Promise<LoadRun> {
  const { scenario, options, live, durationS } = settings;
  const instruments = createInstruments(settings);
  const population = planPopulation(settings);
  const { plan, shardPlan, random } = population;
  const wired = wireFleet(settings, target, instruments, population);
  const { encryption, fleet, traffic } = wired;
  const membershipChanges =
    live.membership_changes > 0
      ? new MembershipChanges({
          count: live.membership_changes,
          durationS,
          // Hot groups keep their senders and MLS groups would need commits: only ordinary plaintext groups change.
          groups: shardPlan.groupsToCreate.filter((g) => g.trafficShare === undefined && !encryption?.plan.groupIndexes.has(g.index)),
          userIds: plan.users.map((u) => u.userId),
          fleet,
          traffic,
          random,
        })
      : undefined;
  const churn = new Churn(fleet, scenario, random, (device) => encryption?.isEncryptedUser(device.user.userId) ?? false);
  const phase = new RunPhase(options.onPhase);
  const { measurements, recorderObserver } = instruments;
  const sampler = new TimeSeriesSampler({
    measurements,
    fleet,
    phase,
    recorderObserver,
    timeSeries: options.timeSeries,
    onProgress: options.onProgress,
    durationS,
  });
  const remoteWrite = await exportDriverMetrics(settings, instruments.metrics);
  return { settings, target, phase, ...instruments, ...population, ...wired, membershipChanges, churn, sampler, remoteWrite };
}

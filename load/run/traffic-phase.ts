import { messagesPerSAt } from '../../scenarios/format/index.js';
import { nowEpochMs } from '../measurements.js';
import { runOpenModelSchedule } from '../schedule.js';
import type { LoadRun } from './build-run.js';

/** When the traffic ran (epoch ms) and how many messages its schedule asked for. */
export interface TrafficOutcome {
  startMs: number;
  endMs: number;
  scheduled: number;
}

/**
 * The traffic phase: churn and membership changes start, the time series starts, and messages are
 * sent on the open-model schedule for `durationS` (this shard's share of the scenario's rate), or
 * until the caller's signal aborts it (then it ends at once and the run goes on to settle).
 */
export async function runTrafficPhase(run: LoadRun): Promise<TrafficOutcome> {
  const { settings, churn, membershipChanges, phase, recorderObserver, observer, fleet, measurements, sampler, shardPlan, traffic } = run;
  const { scenario, options, log, durationS } = settings;
  churn.start();
  membershipChanges?.start();
  phase.enter('traffic');
  log(`traffic for ${durationS} s${options.signal?.aborted ? ' (interrupted: ending at once)' : ''}`);
  const startMs = nowEpochMs();
  if (recorderObserver) recorderObserver.originMs = startMs;
  observer.connections(fleet.online.length);
  measurements.measureFromMs = startMs + scenario.warmup_s * 1000;
  sampler.start(startMs);
  const result = await runOpenModelSchedule({
    durationS,
    ratePerSAt: (atS) => {
      sampler.offeredPerS = messagesPerSAt(scenario, atS) * shardPlan.rateShare;
      observer.offered(sampler.offeredPerS);
      return sampler.offeredPerS;
    },
    send: (scheduledAtMs) => traffic.sendOne(scheduledAtMs),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { startMs, endMs: result.endedAtMs, scheduled: result.scheduled };
}

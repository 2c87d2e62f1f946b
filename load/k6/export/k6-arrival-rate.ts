import type { ConstantArrivalRateScenario, RampingArrivalRateScenario, Stage } from 'k6/options';
import { baseMessagesPerS, curveMultiplierAt, messagesPerSAt, type Scenario } from '../../../scenarios/format/index.js';

/*
 * The scenario's send rate (base × rate curve × spikes, scenarios/format/rate.ts) as a k6
 * arrival-rate executor, one iteration per message. k6 takes whole iterations per `timeUnit`, so
 * rates are counted per minute when a per-second count would round away more than 1% of a rate.
 */

/** k6 stage and rate values are integers; per-minute counts keep sub-1/s rates. */
type TimeUnit = { label: '1s' | '1m'; perSecond: 1 | 60 };
const PER_SECOND: TimeUnit = { label: '1s', perSecond: 1 };
const PER_MINUTE: TimeUnit = { label: '1m', perSecond: 60 };
const ROUNDING_TOLERANCE = 0.01;

/**
 * Iterations of one message each last about a round trip plus two connects; a VU per 100 ms of
 * iteration time at the peak rate is pre-allocated, and up to a VU per 2 s (a slow system) allowed.
 */
const PRE_ALLOCATED_VU_SECONDS = 0.1;
const MAX_VU_SECONDS = 2;
const MIN_PRE_ALLOCATED_VUS = 2;
const MIN_MAX_VUS = 10;

export type K6ArrivalRateScenario = ConstantArrivalRateScenario | RampingArrivalRateScenario;

export interface ArrivalRateOptions {
  /** How long k6 lets iterations in flight finish after the traffic phase (k6's `gracefulStop`). */
  gracefulStopS: number;
}

/** Times (s) where the rate's slope or level may change: curve points and spike edges, within the run. */
export function rateBreakpointsS(scenario: Scenario): number[] {
  const times = new Set<number>([0, scenario.duration_s]);
  for (const point of scenario.traffic.rate_curve) times.add(point.at_s);
  for (const spike of scenario.traffic.spikes) {
    times.add(spike.at_s);
    times.add(spike.at_s + spike.duration_s);
  }
  return [...times].filter((t) => t >= 0 && t <= scenario.duration_s).sort((a, b) => a - b);
}

/** The rate just before a time: spikes end exclusively, so at a spike's end the spike still counts. */
function rateJustBeforeS(scenario: Scenario, atS: number): number {
  const spikeMultiplier = scenario.traffic.spikes.reduce(
    (m, s) => (atS > s.at_s && atS <= s.at_s + s.duration_s ? m * s.multiplier : m),
    1,
  );
  return baseMessagesPerS(scenario) * curveMultiplierAt(scenario, atS) * spikeMultiplier;
}

function chooseTimeUnit(ratesPerS: number[]): TimeUnit {
  const roundsWell = (rate: number) => rate === 0 || Math.abs(Math.round(rate) - rate) / rate <= ROUNDING_TOLERANCE;
  return ratesPerS.every(roundsWell) ? PER_SECOND : PER_MINUTE;
}

function durationText(seconds: number): string {
  return `${Math.round(seconds * 1000) / 1000}s`;
}

function vuBudget(peakPerS: number): { preAllocatedVUs: number; maxVUs: number } {
  const preAllocatedVUs = Math.max(MIN_PRE_ALLOCATED_VUS, Math.ceil(peakPerS * PRE_ALLOCATED_VU_SECONDS));
  return { preAllocatedVUs, maxVUs: Math.max(MIN_MAX_VUS, preAllocatedVUs, Math.ceil(peakPerS * MAX_VU_SECONDS)) };
}

/**
 * A flat rate becomes `constant-arrival-rate`; anything else `ramping-arrival-rate`, whose stages
 * ramp linearly as the rate curve does, with a 0 s stage for each step (a spike's start and end).
 */
export function arrivalRateScenarioOf(scenario: Scenario, options: ArrivalRateOptions): K6ArrivalRateScenario {
  const breakpoints = rateBreakpointsS(scenario);
  const segments = breakpoints.slice(1).map((endS, i) => {
    const startS = breakpoints[i]!;
    return { startS, endS, fromPerS: messagesPerSAt(scenario, startS), toPerS: rateJustBeforeS(scenario, endS) };
  });
  const allRates = segments.flatMap((s) => [s.fromPerS, s.toPerS]);
  const peakPerS = Math.max(...allRates);
  const unit = chooseTimeUnit(allRates);
  const perUnit = (ratePerS: number) => Math.round(ratePerS * unit.perSecond);
  const common = { gracefulStop: durationText(options.gracefulStopS), ...vuBudget(peakPerS) };

  const flat = allRates.every((r) => perUnit(r) === perUnit(allRates[0]!));
  if (flat) {
    return {
      executor: 'constant-arrival-rate',
      rate: perUnit(allRates[0]!),
      timeUnit: unit.label,
      duration: durationText(scenario.duration_s),
      ...common,
    };
  }
  const stages: Stage[] = [];
  let levelPerUnit = perUnit(segments[0]!.fromPerS);
  for (const segment of segments) {
    const from = perUnit(segment.fromPerS);
    if (from !== levelPerUnit) stages.push({ target: from, duration: '0s' });
    const to = perUnit(segment.toPerS);
    stages.push({ target: to, duration: durationText(segment.endS - segment.startS) });
    levelPerUnit = to;
  }
  return { executor: 'ramping-arrival-rate', startRate: perUnit(segments[0]!.fromPerS), timeUnit: unit.label, stages, ...common };
}

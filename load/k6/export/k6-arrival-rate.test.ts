import { describe, expect, it } from 'vitest';
import { parseScenario, type ScenarioInput } from '../../../scenarios/format/index.js';
import { arrivalRateScenarioOf, rateBreakpointsS } from './k6-arrival-rate.js';
import { thresholdsOf } from './k6-thresholds.js';

function scenarioWith(traffic: ScenarioInput['traffic'], extra: Partial<ScenarioInput> = {}) {
  return parseScenario({ name: 'shape', duration_s: 60, population: { users: 100 }, traffic, ...extra }, 'test');
}

const stop = { gracefulStopS: 35 };

describe('arrival rate from the scenario traffic shape', () => {
  it('a flat rate is a constant-arrival-rate scenario for the whole duration', () => {
    expect(arrivalRateScenarioOf(scenarioWith({ messages_per_s: 40 }), stop)).toEqual({
      executor: 'constant-arrival-rate',
      rate: 40,
      timeUnit: '1s',
      duration: '60s',
      gracefulStop: '35s',
      preAllocatedVUs: 4,
      maxVUs: 80,
    });
  });

  it('a spike is a ramping-arrival-rate scenario with instant steps at its edges', () => {
    const k6 = arrivalRateScenarioOf(scenarioWith({ messages_per_s: 50, spikes: [{ at_s: 20, duration_s: 20, multiplier: 3 }] }), stop);
    expect(k6).toMatchObject({ executor: 'ramping-arrival-rate', startRate: 50, timeUnit: '1s', maxVUs: 300 });
    expect(k6.executor === 'ramping-arrival-rate' && k6.stages).toEqual([
      { target: 50, duration: '20s' },
      { target: 150, duration: '0s' },
      { target: 150, duration: '20s' },
      { target: 50, duration: '0s' },
      { target: 50, duration: '20s' },
    ]);
  });

  it('a rate curve ramps linearly between its points, as the scenario rate does', () => {
    const k6 = arrivalRateScenarioOf(
      scenarioWith({
        messages_per_s: 10,
        rate_curve: [
          { at_s: 0, multiplier: 1 },
          { at_s: 30, multiplier: 4 },
          { at_s: 60, multiplier: 2 },
        ],
      }),
      stop,
    );
    expect(k6.executor === 'ramping-arrival-rate' && k6.stages).toEqual([
      { target: 40, duration: '30s' },
      { target: 20, duration: '30s' },
    ]);
  });

  it('rates below one a second are counted per minute so they do not round to zero', () => {
    const k6 = arrivalRateScenarioOf(scenarioWith({ messages_per_user_per_day: 50 }, { population: { users: 1000 } }), stop);
    // 1000 users × 50 a day = 0.5787 msgs/s = 34.7 a minute.
    expect(k6).toMatchObject({ executor: 'constant-arrival-rate', rate: 35, timeUnit: '1m' });
  });

  it('breakpoints are the curve points and spike edges inside the run', () => {
    const scenario = scenarioWith({
      messages_per_s: 1,
      rate_curve: [
        { at_s: 10, multiplier: 1 },
        { at_s: 90, multiplier: 2 },
      ],
      spikes: [{ at_s: 50, duration_s: 30, multiplier: 2 }],
    });
    expect(rateBreakpointsS(scenario)).toEqual([0, 10, 50, 60]);
  });
});

describe('thresholds from the scenario SLOs', () => {
  it('deliver and ack p99 on steady-phase samples, error rate and lost messages', () => {
    const scenario = scenarioWith(
      { messages_per_s: 1 },
      { slo: { deliver_p99_ms: 200, ack_p99_ms: 150, error_rate_max: 0.001, violations_max: 0 } },
    );
    expect(thresholdsOf(scenario.slo)).toEqual({
      'chat_deliver_latency_ms{phase:steady}': ['p(99)<200'],
      'chat_ack_latency_ms{phase:steady}': ['p(99)<150'],
      chat_errors: ['rate<=0.001'],
      chat_messages_lost: ['count<=0'],
    });
  });

  it('SLOs the scenario leaves out get no threshold', () => {
    expect(Object.keys(thresholdsOf(scenarioWith({ messages_per_s: 1 }).slo))).toEqual([
      'chat_deliver_latency_ms{phase:steady}',
      'chat_messages_lost',
    ]);
  });
});

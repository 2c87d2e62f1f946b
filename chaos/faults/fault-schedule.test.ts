import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ResolvedFault } from '../format/read-drill.js';
import type { FaultAction } from './fault-injector.js';
import { FaultSchedule } from './fault-schedule.js';

const fault = (at_s: number, duration_s: number, target = 'gateway-1'): ResolvedFault => ({
  kind: 'gateway_pause',
  target,
  at_s,
  duration_s,
});

/** An action that logs what happened to `events`. */
function action(events: string[], name: string, options: { heal?: boolean; failInject?: boolean } = {}): FaultAction {
  return {
    how: `${name} how`,
    recoveryFrom: 'healed',
    inject: async () => {
      if (options.failInject) throw new Error('no such process');
      events.push(`inject ${name}`);
    },
    heal: options.heal === false ? undefined : async () => void events.push(`heal ${name}`),
  };
}

describe('fault schedule', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('injects each fault at its time and heals it duration_s later, recording when', async () => {
    const events: string[] = [];
    const schedule = new FaultSchedule([fault(2, 3), fault(4, 1, 'redis')], [action(events, 'a'), action(events, 'b')]);
    schedule.start(Date.now());
    await vi.advanceTimersByTimeAsync(1_900);
    expect(events).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(events).toEqual(['inject a']);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(events).toEqual(['inject a', 'inject b', 'heal a', 'heal b']);
    expect(schedule.records.map((r) => [r.at_s, r.healed_s])).toEqual([
      [2, 5],
      [4, 5],
    ]);
    expect(schedule.records[0]).toMatchObject({
      kind: 'gateway_pause',
      target: 'gateway-1',
      how: 'a how',
      planned_at_s: 2,
      planned_heal_s: 5,
    });
  });

  it('healAll heals what is active and cancels what has not started', async () => {
    const events: string[] = [];
    const schedule = new FaultSchedule([fault(1, 10), fault(5, 1, 'redis')], [action(events, 'a'), action(events, 'b')]);
    schedule.start(Date.now());
    await vi.advanceTimersByTimeAsync(2_000);
    await schedule.healAll();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(events).toEqual(['inject a', 'heal a']);
    expect(schedule.records[0]!.healed_s).toBe(2);
    expect(schedule.records[1]!.at_s).toBeNull();
  });

  it('never heals a fault without a heal (a crash left down) and records failed injections', async () => {
    const events: string[] = [];
    const schedule = new FaultSchedule(
      [fault(1, 0), fault(1, 2, 'redis')],
      [action(events, 'a', { heal: false }), action(events, 'b', { failInject: true })],
    );
    schedule.start(Date.now());
    await vi.advanceTimersByTimeAsync(5_000);
    await schedule.healAll();
    expect(events).toEqual(['inject a']);
    expect(schedule.records[0]).toMatchObject({ at_s: 1, healed_s: null, planned_heal_s: null });
    expect(schedule.records[1]!.error).toBe('inject: no such process');
  });

  it('runs operations on one target one after another', async () => {
    const events: string[] = [];
    const slowHeal: FaultAction = {
      how: 'slow',
      recoveryFrom: 'healed',
      inject: async () => void events.push('inject slow'),
      heal: () => new Promise<void>((resolve) => setTimeout(() => resolve(void events.push('heal slow')), 3_000)),
    };
    const schedule = new FaultSchedule([fault(1, 1), fault(3, 1)], [slowHeal, action(events, 'next')]);
    schedule.start(Date.now());
    await vi.advanceTimersByTimeAsync(10_000);
    // The second fault on gateway-1 waits until the first one's heal has finished.
    expect(events).toEqual(['inject slow', 'heal slow', 'inject next', 'heal next']);
    expect(schedule.records[1]!.at_s).toBe(5);
  });
});

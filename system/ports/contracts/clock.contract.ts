import { describe, expect, it } from 'vitest';
import type { Clock } from '../clock.js';
import { eventually, useSubject, type Disposable, type TimeControl } from './support.js';

export interface ClockSubject extends Disposable, TimeControl {
  clock: Clock;
  /** The delay unit of the suite; real clocks need room for timer jitter (default 100). */
  stepMs?: number;
}

/** The Clock contract: time does not run backwards, timers fire once when due, cancel prevents them. */
export function clockContract(name: string, make: () => Promise<ClockSubject>): void {
  describe(name, () => {
    const subject = useSubject(make);
    const clock = () => subject().clock;
    const step = () => subject().stepMs ?? 100;
    const advance = (ms: number) => subject().advance(ms);
    // Real timers may fire up to a millisecond before Date.now() says they are due.
    const jitterMs = 2;

    it('nowMs is epoch milliseconds and moves forward with time', async () => {
      const start = clock().nowMs();
      expect(Number.isFinite(start)).toBe(true);
      expect(start).toBeGreaterThan(Date.UTC(2020, 0, 1));
      await advance(step());
      const later = clock().nowMs();
      expect(later).toBeGreaterThanOrEqual(start + step() - jitterMs);
    });

    it('a timer fires once, when due and not before', async () => {
      let fired = 0;
      const start = clock().nowMs();
      let firedAt = 0;
      clock().setTimer(step(), () => {
        fired += 1;
        firedAt = clock().nowMs();
      });
      await advance(step() / 2);
      expect(fired).toBe(0);
      await advance(step());
      await eventually(() => expect(fired).toBe(1), 10 * step());
      expect(firedAt).toBeGreaterThanOrEqual(start + step() - jitterMs);
      await advance(step() * 2);
      expect(fired).toBe(1);
    });

    it('cancel prevents the timer, and cancelling twice or after firing is harmless', async () => {
      let fired = false;
      const handle = clock().setTimer(step(), () => (fired = true));
      handle.cancel();
      handle.cancel();
      await advance(step() * 2);
      expect(fired).toBe(false);
      let other = false;
      const done = clock().setTimer(1, () => (other = true));
      await advance(step());
      await eventually(() => expect(other).toBe(true), 10 * step());
      done.cancel();
    });

    it('timers fire in the order they are due', async () => {
      const order: string[] = [];
      clock().setTimer(step() * 0.9, () => order.push('late'));
      clock().setTimer(step() * 0.1, () => order.push('early'));
      clock().setTimer(step() * 0.5, () => order.push('middle'));
      await advance(step() * 1.5);
      await eventually(() => expect(order).toEqual(['early', 'middle', 'late']), 10 * step());
    });

    it('a timer may set another timer', async () => {
      const fired: string[] = [];
      clock().setTimer(step() * 0.2, () => {
        fired.push('first');
        clock().setTimer(step() * 0.2, () => fired.push('second'));
      });
      await advance(step());
      await eventually(() => expect(fired).toEqual(['first', 'second']), 10 * step());
    });
  });
}

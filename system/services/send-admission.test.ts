import { describe, expect, it } from 'vitest';
import { ChatError } from '../core/errors.js';
import { defaultLimits, type Limits } from '../core/limits.js';
import { ManualClock } from '../adapters/virtual/manual-clock.js';
import { SeededRandom } from '../adapters/virtual/seeded-random.js';
import { SendAdmission } from './send-admission.js';

const LIMITS: Limits = {
  ...defaultLimits,
  sendsInFlightMax: 5,
  sendQueueDelayMsMax: 100,
  sendAdmissionWindowMs: 1_000,
  sendAdmissionAnswersMin: 3,
  overloadRetryAfterMs: 1_000,
};

function setup(limits: Limits = LIMITS) {
  const clock = new ManualClock();
  const admission = new SendAdmission({ clock, limits, random: new SeededRandom(1) });
  return { clock, admission };
}

function refusal(admission: SendAdmission): ChatError {
  try {
    admission.admit();
  } catch (error) {
    return error as ChatError;
  }
  throw new Error('the send was admitted');
}

describe('SendAdmission', () => {
  it('admits sends that are answered quickly, window after window', async () => {
    const { clock, admission } = setup();
    for (let i = 0; i < 50; i++) {
      const ticket = admission.admit();
      await clock.advance(90);
      admission.finished(ticket);
    }
    expect(admission.isRefusing).toBe(false);
    expect(admission.sendsInFlight).toBe(0);
  });

  it('refuses with OVERLOADED (retryable, jittered hint) for a window after one in which every answered send queued too long', async () => {
    const { clock, admission } = setup();
    const slow = [admission.admit(), admission.admit(), admission.admit()];
    await clock.advance(500);
    for (const ticket of slow) admission.finished(ticket); // the quickest of three waited 500 ms > 100 ms
    await clock.advance(500); // the window closes
    const hints = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const error = refusal(admission);
      expect(error).toBeInstanceOf(ChatError);
      expect(error.code).toBe('OVERLOADED');
      expect(error.retryable).toBe(true);
      expect(error.retryAfterMs).toBeGreaterThanOrEqual(500);
      expect(error.retryAfterMs).toBeLessThanOrEqual(1_500);
      hints.add(error.retryAfterMs!);
    }
    expect(hints.size).toBeGreaterThan(10);
    expect(admission.sendsInFlight).toBe(0); // refused sends hold nothing
  });

  it('does not refuse when only some sends are slow: the quickest of the window decides', async () => {
    const { clock, admission } = setup();
    const stuck = [admission.admit(), admission.admit(), admission.admit()];
    const quick = admission.admit();
    await clock.advance(10);
    admission.finished(quick);
    await clock.advance(2_000);
    for (const ticket of stuck) admission.finished(ticket);
    expect(admission.isRefusing).toBe(false);
    expect(() => admission.admit()).not.toThrow();
  });

  it('admits again once a window passes with the queue gone', async () => {
    const { clock, admission } = setup();
    const slow = [admission.admit(), admission.admit(), admission.admit()];
    await clock.advance(300);
    for (const ticket of slow) admission.finished(ticket);
    await clock.advance(700);
    expect(admission.isRefusing).toBe(true);
    await clock.advance(1_000); // nothing answered, nothing in flight: no queue is left
    expect(admission.isRefusing).toBe(false);
    expect(() => admission.admit()).not.toThrow();
  });

  it('keeps refusing while the sends in flight are still stuck (no answer in the window is no proof of recovery)', async () => {
    const { clock, admission } = setup();
    const slow = [admission.admit(), admission.admit(), admission.admit()];
    const stillStuck = admission.admit();
    await clock.advance(300);
    for (const ticket of slow) admission.finished(ticket);
    await clock.advance(700);
    expect(admission.isRefusing).toBe(true);
    await clock.advance(1_000);
    expect(admission.isRefusing).toBe(true);
    admission.finished(stillStuck);
  });

  it('does not judge a window from fewer answers than sendAdmissionAnswersMin (a paused process, a clock jump)', async () => {
    const { clock, admission } = setup();
    const held = [admission.admit(), admission.admit()];
    await clock.advance(3_000);
    for (const ticket of held) admission.finished(ticket);
    await clock.advance(1_000);
    expect(admission.isRefusing).toBe(false);
  });

  it('caps the unanswered sends at sendsInFlightMax however fast they are', () => {
    const { admission } = setup();
    const tickets = Array.from({ length: LIMITS.sendsInFlightMax }, () => admission.admit());
    const error = refusal(admission);
    expect(error.code).toBe('OVERLOADED');
    expect(error.message).toContain('sendsInFlightMax');
    admission.finished(tickets[0]!);
    expect(() => admission.admit()).not.toThrow();
  });

  it('counts the time a frame waited for its connection’s turn as queueing', async () => {
    const { clock, admission } = setup();
    const receivedAtMs = clock.nowMs();
    await clock.advance(400); // the frames sat in the input queue; the store answers at once
    const tickets = [admission.admit(receivedAtMs), admission.admit(receivedAtMs), admission.admit(receivedAtMs)];
    for (const ticket of tickets) admission.finished(ticket);
    await clock.advance(1_000);
    expect(admission.isRefusing).toBe(true);
  });
});

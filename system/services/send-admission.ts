import { ChatError } from '../core/errors.js';
import type { CoreDeps } from './deps.js';

/** When an admitted send started, to hand back to `finished`. */
export type AdmissionTicket = { startedAtMs: number };

/**
 * Admission control for sends on one gateway: past its capacity the gateway refuses new sends
 * with OVERLOADED (retryable) instead of queueing them without end, so memory stays bounded and
 * the sends it does take are answered in bounded time.
 *
 * Overload is recognised as a standing queue (the idea behind CoDel): time is cut into admission
 * windows, and when the quickest send answered during a window (of at least
 * `sendAdmissionAnswersMin`) still waited longer than `sendQueueDelayMsMax`, every send was
 * queueing, and the next window refuses. The quickest, not
 * the mean or a percentile, so a few sends held up by one slow conversation owner or a takeover
 * never refuse the traffic that flows. A hard cap on unanswered sends bounds memory whatever the
 * timing. Everything runs on the injected clock and random source: the simulator sees the same.
 */
export class SendAdmission {
  private inFlight = 0;
  private windowStartMs: number;
  private quickestInWindowMs = Number.POSITIVE_INFINITY;
  private answeredInWindow = 0;
  private refusing = false;

  constructor(private readonly deps: Pick<CoreDeps, 'clock' | 'limits' | 'random'>) {
    this.windowStartMs = deps.clock.nowMs();
  }

  /** Sends taken and not yet answered. */
  get sendsInFlight(): number {
    return this.inFlight;
  }

  /** Whether the current window refuses sends (the last one showed a standing queue). */
  get isRefusing(): boolean {
    this.roll(this.deps.clock.nowMs());
    return this.refusing;
  }

  /**
   * Takes a send, or throws OVERLOADED (nothing was done with it). receivedAtMs: when its frame
   * came off the socket, so the wait for the connection's turn counts as queueing too.
   */
  admit(receivedAtMs?: number): AdmissionTicket {
    const { limits } = this.deps;
    const nowMs = this.deps.clock.nowMs();
    this.roll(nowMs);
    if (this.inFlight >= limits.sendsInFlightMax) {
      throw this.overloaded(`${this.inFlight} sends are unanswered on this gateway (sendsInFlightMax ${limits.sendsInFlightMax})`);
    }
    if (this.refusing) {
      throw this.overloaded(
        `every send answered in the last ${limits.sendAdmissionWindowMs} ms waited over ${limits.sendQueueDelayMsMax} ms`,
      );
    }
    this.inFlight++;
    return { startedAtMs: Math.min(nowMs, receivedAtMs ?? nowMs) };
  }

  /** An admitted send was answered (stored, queued or refused by a check). */
  finished(ticket: AdmissionTicket): void {
    const nowMs = this.deps.clock.nowMs();
    this.inFlight--;
    this.roll(nowMs);
    this.quickestInWindowMs = Math.min(this.quickestInWindowMs, nowMs - ticket.startedAtMs);
    this.answeredInWindow++;
  }

  /**
   * Closes the windows that ended by nowMs. A window with too few answers to judge keeps the
   * verdict, unless nothing is left in flight: then no queue is left, and it admits again.
   */
  private roll(nowMs: number): void {
    const { sendAdmissionWindowMs: windowMs, sendAdmissionAnswersMin, sendQueueDelayMsMax } = this.deps.limits;
    if (nowMs - this.windowStartMs < windowMs) return;
    if (this.answeredInWindow >= sendAdmissionAnswersMin) this.refusing = this.quickestInWindowMs > sendQueueDelayMsMax;
    else if (this.inFlight === 0) this.refusing = false;
    this.quickestInWindowMs = Number.POSITIVE_INFINITY;
    this.answeredInWindow = 0;
    this.windowStartMs = nowMs - ((nowMs - this.windowStartMs) % windowMs);
  }

  private overloaded(reason: string): ChatError {
    const meanMs = this.deps.limits.overloadRetryAfterMs;
    const retryAfterMs = Math.round(meanMs * (0.5 + this.deps.random.nextFloat()));
    return new ChatError('OVERLOADED', `gateway overloaded: ${reason}; retry in ${retryAfterMs} ms`, { retryAfterMs });
  }
}

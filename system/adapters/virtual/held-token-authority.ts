import type { TokenAuthority } from '../../ports/token-authority.js';

/**
 * Somewhere to park work that finishes in real time rather than virtual time. Token signing and
 * checking go through WebCrypto, which answers from libuv's thread pool after an unpredictable
 * number of event-loop turns; a virtual world must not move on, or let the answers arrive in a
 * different order, because of that. hold() returns a promise settled with the work's outcome at a
 * point the world controls (the simulator's scheduler: before leaving the instant, in call order).
 */
export interface RealTimeWorkGate {
  hold<T>(work: Promise<T>): Promise<T>;
}

/** A TokenAuthority whose answers the gate releases (the simulator and the in-process test worlds). */
export function heldTokenAuthority(inner: TokenAuthority, gate: RealTimeWorkGate): TokenAuthority {
  return {
    issue: (device, ttlMs) => gate.hold(inner.issue(device, ttlMs)),
    verify: (token) => gate.hold(inner.verify(token)),
  };
}

interface HeldWork {
  work: Promise<unknown>;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

/**
 * Held work, released in batches: release() waits until everything held so far has finished,
 * then settles each outcome in the order hold() was called, lets the continuations run (one
 * setImmediate turn), and repeats while those continuations held more. Which thread-pool job
 * finished first never shows.
 */
export class HeldWorkQueue implements RealTimeWorkGate {
  private held: HeldWork[] = [];

  get size(): number {
    return this.held.length;
  }

  hold<T>(work: Promise<T>): Promise<T> {
    // A refusal (a bad token) is the caller's, passed on by release(); until then it is held, not unhandled.
    work.catch(() => undefined);
    return new Promise<T>((resolve, reject) => this.held.push({ work, resolve: resolve as (value: unknown) => void, reject }));
  }

  async release(): Promise<void> {
    while (this.held.length > 0) {
      const batch = this.held;
      this.held = [];
      const outcomes = await Promise.allSettled(batch.map((h) => h.work));
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'fulfilled') batch[i]!.resolve(outcome.value);
        else batch[i]!.reject(outcome.reason);
      });
      await nextTurn();
    }
  }
}

/**
 * A gate that releases by itself: the first hold starts a release one event-loop turn later, so
 * every hold made by the same cascade of promise continuations joins one batch (the in-process
 * test worlds, which have no scheduler; settle() waits for idle()).
 */
export class SelfReleasingGate implements RealTimeWorkGate {
  private readonly queue = new HeldWorkQueue();
  private releasing: Promise<void> | undefined;

  hold<T>(work: Promise<T>): Promise<T> {
    const held = this.queue.hold(work);
    this.releasing ??= this.releaseSoon();
    return held;
  }

  /** Resolves once nothing is held (every outcome released). */
  async idle(): Promise<void> {
    while (this.releasing) await this.releasing;
  }

  private async releaseSoon(): Promise<void> {
    await nextTurn();
    await this.queue.release();
    this.releasing = undefined;
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

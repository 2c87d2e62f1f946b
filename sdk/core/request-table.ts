import type { Clock, TimerHandle } from '../../system/ports/clock.js';
import type { ServerFrame, ServerFrameType } from '../../system/protocol/frames.js';
import { ChatClientError } from '../errors.js';

interface PendingRequest {
  expect: ServerFrameType;
  resolve(frame: ServerFrame): void;
  reject(error: ChatClientError): void;
  timer: TimerHandle;
}

/**
 * Requests waiting for their answer, by rid. Answers are dispatched synchronously while the
 * client handles the frame (not on a later microtask), so whatever they cause — deliveries,
 * acks — happens in frame order.
 */
export class RequestTable {
  private readonly pending = new Map<string, PendingRequest>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.pending.size;
  }

  add(
    rid: string,
    expect: ServerFrameType,
    timeoutMs: number,
    resolve: (frame: ServerFrame) => void,
    reject: (error: ChatClientError) => void,
  ): void {
    const timer = this.clock.setTimer(timeoutMs, () => {
      if (this.pending.get(rid) !== entry) return;
      this.pending.delete(rid);
      reject(new ChatClientError('TIMEOUT', `no ${expect} within ${timeoutMs} ms (rid ${rid})`));
    });
    const entry: PendingRequest = { expect, resolve, reject, timer };
    this.pending.set(rid, entry);
  }

  /** An answer frame carrying `rid`; false when nobody waits for it (late, or not ours). */
  settle(rid: string, frame: ServerFrame): boolean {
    const entry = this.take(rid);
    if (!entry) return false;
    if (frame.type === entry.expect) {
      entry.resolve(frame);
    } else {
      entry.reject(new ChatClientError('PROTOCOL_ERROR', `expected ${entry.expect} for rid ${rid}, got ${frame.type}`));
    }
    return true;
  }

  fail(rid: string, error: ChatClientError): boolean {
    const entry = this.take(rid);
    if (!entry) return false;
    entry.reject(error);
    return true;
  }

  failAll(error: ChatClientError): void {
    if (this.pending.size === 0) return;
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) {
      entry.timer.cancel();
      entry.reject(error);
    }
  }

  private take(rid: string): PendingRequest | undefined {
    const entry = this.pending.get(rid);
    if (!entry) return undefined;
    this.pending.delete(rid);
    entry.timer.cancel();
    return entry;
  }
}

import type { DeviceAddress } from '../core/ids.js';
import { deviceKey } from '../core/ids.js';
import { ChatError } from '../core/errors.js';
import type { Clock } from '../ports/clock.js';

/** Devices tracked before idle (full) buckets are dropped: bounds the limiter's memory. */
const TRACKED_DEVICES_MAX = 10_000;

/**
 * How many KeyPackages each device may claim: `perMinute` per minute, with a burst of the same
 * size (one large group's worth). A claim is charged in full before anything is taken, so a
 * refused claim consumes nothing. Per gateway process: a device spreading a storm over several
 * gateways gets each one's budget, which still bounds it.
 */
export class KeyPackageClaimLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly perMinute: () => number,
  ) {}

  /** Takes `count` claims from the device's budget or throws RATE_LIMITED with the wait. */
  charge(device: DeviceAddress, count: number): void {
    const capacity = this.perMinute();
    const key = deviceKey(device);
    const now = this.clock.nowMs();
    const bucket = this.buckets.get(key) ?? { tokens: capacity, atMs: now };
    const ratePerMs = capacity / 60_000;
    bucket.tokens = Math.min(capacity, bucket.tokens + Math.max(0, now - bucket.atMs) * ratePerMs);
    bucket.atMs = now;
    if (count > bucket.tokens) {
      this.remember(key, bucket);
      // (+1 ms: floating-point refill must not leave the retry a hair short of the tokens it needs.)
      const waitMs = count > capacity ? 60_000 : Math.ceil((count - bucket.tokens) / ratePerMs) + 1;
      throw new ChatError(
        'RATE_LIMITED',
        `claiming ${count} KeyPackages exceeds keyPackageClaimsPerMinute (${capacity}); ${Math.floor(bucket.tokens)} left now`,
        {
          retryAfterMs: waitMs,
        },
      );
    }
    bucket.tokens -= count;
    this.remember(key, bucket);
  }

  private remember(key: string, bucket: { tokens: number; atMs: number }): void {
    this.buckets.set(key, bucket);
    if (this.buckets.size <= TRACKED_DEVICES_MAX) return;
    const capacity = this.perMinute();
    const now = this.clock.nowMs();
    for (const [k, b] of this.buckets) {
      if (b.tokens + (now - b.atMs) * (capacity / 60_000) >= capacity) this.buckets.delete(k);
    }
  }
}

/**
 * Exponential backoff with "equal jitter": the delay for attempt n (1-based) is uniformly in
 * [base/2, base], base = min(maxMs, minMs * 2^(n-1)). The jitter spreads out thousands of clients
 * that lost the same node at the same moment; the floor keeps them from hammering it at once.
 */
export function backoffDelayMs(attempt: number, minMs: number, maxMs: number, random01: number): number {
  const exponent = Math.min(Math.max(0, attempt - 1), 30);
  const base = Math.min(maxMs, minMs * 2 ** exponent);
  return Math.round(base / 2 + (base / 2) * random01);
}

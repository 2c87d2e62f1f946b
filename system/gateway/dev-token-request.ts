import { ChatError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';

/** What `POST /dev/token` asks for, validated (ids are checked where the token is issued). */
export interface DevTokenRequest {
  userId: string;
  deviceId: string;
  /** Absent: the deployment's tokenTtlMs. */
  ttlMs?: number;
}

/**
 * Reads a `POST /dev/token` body. A lifetime the caller gives must be a whole number of
 * milliseconds from 1 to tokenTtlMsMax: a wrong one is refused rather than silently replaced by
 * the default (the caller would hold a token of a lifetime it did not ask for), and a huge one
 * would be a token that never expires.
 */
export function parseDevTokenRequest(text: string, limits: Pick<Limits, 'tokenTtlMsMax'>): DevTokenRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ChatError('BAD_FRAME', 'body must be JSON {"userId","deviceId"}');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ChatError('BAD_FRAME', 'body must be a JSON object {"userId","deviceId"}');
  const { userId, deviceId, ttlMs } = body as Record<string, unknown>;
  if (typeof userId !== 'string' || typeof deviceId !== 'string')
    throw new ChatError('INVALID_FIELD', 'userId and deviceId are required strings');
  if (ttlMs === undefined) return { userId, deviceId };
  if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > limits.tokenTtlMsMax) {
    throw new ChatError('INVALID_FIELD', `ttlMs must be a whole number of milliseconds from 1 to ${limits.tokenTtlMsMax} (tokenTtlMsMax)`);
  }
  return { userId, deviceId, ttlMs };
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import { ChatError } from '../core/errors.js';
import { DEVICE_ID_PATTERN, USER_ID_PATTERN, type DeviceAddress } from '../core/ids.js';
import type { Clock } from '../ports/clock.js';

/** What a token proves: this user and device, issued then, valid until then. */
export interface TokenClaims extends DeviceAddress {
  issuedAtMs: number;
  expiresAtMs: number;
}

const TOKEN_PREFIX = 'v1';

/**
 * HMAC-SHA256 signed tokens: `v1.<base64url(json claims)>.<base64url(signature)>`. Deterministic
 * (no randomness), so the simulator can issue and verify them too.
 */
export class TokenService {
  constructor(
    private readonly secret: string,
    private readonly clock: Clock,
  ) {
    if (secret.length < 16) throw new Error('token secret must be at least 16 characters');
  }

  issue(device: DeviceAddress, ttlMs: number): { token: string; claims: TokenClaims } {
    if (!USER_ID_PATTERN.test(device.userId)) throw new ChatError('INVALID_FIELD', 'userId is not a valid user id');
    if (!DEVICE_ID_PATTERN.test(device.deviceId)) throw new ChatError('INVALID_FIELD', 'deviceId is not a valid device id');
    const now = this.clock.nowMs();
    const claims: TokenClaims = { userId: device.userId, deviceId: device.deviceId, issuedAtMs: now, expiresAtMs: now + ttlMs };
    const payload = Buffer.from(JSON.stringify({ u: claims.userId, d: claims.deviceId, iat: claims.issuedAtMs, exp: claims.expiresAtMs })).toString('base64url');
    return { token: `${TOKEN_PREFIX}.${payload}.${this.sign(payload)}`, claims };
  }

  verify(token: string): TokenClaims {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== TOKEN_PREFIX) throw new ChatError('TOKEN_INVALID', 'token is not in v1.<claims>.<signature> form');
    const [, payload, signature] = parts as [string, string, string];
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new ChatError('TOKEN_INVALID', 'token signature does not verify');
    }
    let raw: { u?: unknown; d?: unknown; iat?: unknown; exp?: unknown };
    try {
      raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw new ChatError('TOKEN_INVALID', 'token claims are not JSON');
    }
    if (typeof raw.u !== 'string' || typeof raw.d !== 'string' || typeof raw.iat !== 'number' || typeof raw.exp !== 'number') {
      throw new ChatError('TOKEN_INVALID', 'token claims are incomplete');
    }
    if (raw.exp <= this.clock.nowMs()) throw new ChatError('TOKEN_EXPIRED', 'token has expired; request a new one');
    return { userId: raw.u, deviceId: raw.d, issuedAtMs: raw.iat, expiresAtMs: raw.exp };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}

import { SignJWT, jwtVerify, type JWTPayload } from 'jose';
import { ChatError } from '../../core/errors.js';
import { DEVICE_ID_PATTERN, USER_ID_PATTERN, type DeviceAddress } from '../../core/ids.js';
import type { Clock } from '../../ports/clock.js';
import type { IssuedToken, TokenAuthority, TokenClaims } from '../../ports/token-authority.js';
import { chatErrorFromJose } from './jose-error-codes.js';
import { JwtKeys, type JwksLimits } from './jwt-keys.js';
import { TOKEN_SECRET_CHARS_MIN, type TokenSettings } from './jwt-settings.js';

/** The private claim naming the device; the user is the standard `sub`. */
export const DEVICE_CLAIM = 'device_id';

const MS_PER_S = 1000;

/**
 * Auth tokens as JWTs, signed and checked with jose: `sub` the user, `device_id` the device, `aud`,
 * `iss`, `iat` and `exp`. Times are read from the Clock port, never from the machine, so tokens
 * behave the same in virtual time. `iat` and `exp` carry milliseconds as fractions of a second
 * (RFC 7519 NumericDates may be fractional): a device unlinked and signed in again within one
 * second must get a token that counts as issued after the unlink.
 */
export class JwtTokenAuthority implements TokenAuthority {
  private readonly keys: JwtKeys;

  constructor(
    private readonly settings: TokenSettings,
    private readonly clock: Clock,
    limits: JwksLimits,
  ) {
    if (settings.keys.algorithm === 'HS256' && settings.keys.secret.length < TOKEN_SECRET_CHARS_MIN) {
      throw new Error(`the token secret must be at least ${TOKEN_SECRET_CHARS_MIN} characters`);
    }
    this.keys = new JwtKeys(settings, limits);
  }

  async issue(device: DeviceAddress, ttlMs: number): Promise<IssuedToken> {
    if (!USER_ID_PATTERN.test(device.userId)) throw new ChatError('INVALID_FIELD', 'userId is not a valid user id');
    if (!DEVICE_ID_PATTERN.test(device.deviceId)) throw new ChatError('INVALID_FIELD', 'deviceId is not a valid device id');
    if (!(ttlMs > 0)) throw new ChatError('INVALID_FIELD', 'a token lifetime must be a positive number of milliseconds');
    const { settings } = this;
    const issuedAtMs = this.clock.nowMs();
    const claims: TokenClaims = { userId: device.userId, deviceId: device.deviceId, issuedAtMs, expiresAtMs: issuedAtMs + ttlMs };
    const key = await this.keys.signingKey();
    const token = await new SignJWT({ [DEVICE_CLAIM]: device.deviceId })
      .setProtectedHeader({ alg: settings.keys.algorithm, typ: 'JWT', ...(settings.keyId ? { kid: settings.keyId } : {}) })
      .setSubject(device.userId)
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setIssuedAt(claims.issuedAtMs / MS_PER_S)
      .setExpirationTime(claims.expiresAtMs / MS_PER_S)
      .sign(key);
    return { token, claims };
  }

  async verify(token: string): Promise<TokenClaims> {
    // The instant the token was presented, read before any await.
    const nowMs = this.clock.nowMs();
    const { settings } = this;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys.verificationKey, {
        algorithms: [settings.keys.algorithm],
        issuer: settings.issuer,
        audience: settings.audience,
        currentDate: new Date(nowMs),
        requiredClaims: ['sub', DEVICE_CLAIM, 'iat', 'exp'],
      }));
    } catch (error) {
      throw chatErrorFromJose(error);
    }
    return claimsOf(payload, nowMs);
  }
}

/** The claims jose checked, read into TokenClaims; jose compares `exp` in whole seconds, this in milliseconds. */
function claimsOf(payload: JWTPayload, nowMs: number): TokenClaims {
  const userId = payload.sub;
  const deviceId = payload[DEVICE_CLAIM];
  if (typeof userId !== 'string' || !USER_ID_PATTERN.test(userId))
    throw new ChatError('TOKEN_INVALID', 'token "sub" claim is not a valid user id');
  if (typeof deviceId !== 'string' || !DEVICE_ID_PATTERN.test(deviceId))
    throw new ChatError('TOKEN_INVALID', `token "${DEVICE_CLAIM}" claim is not a valid device id`);
  const expiresAtMs = Math.round(payload.exp! * MS_PER_S);
  if (expiresAtMs <= nowMs) throw new ChatError('TOKEN_EXPIRED', 'token has expired; request a new one');
  return { userId, deviceId, issuedAtMs: Math.round(payload.iat! * MS_PER_S), expiresAtMs };
}

import { JwtTokenAuthority } from '../system/adapters/jwt/jwt-token-authority.js';
import { sharedSecretTokenSettings } from '../system/adapters/jwt/jwt-settings.js';
import { systemClock } from '../system/adapters/node/system-clock.js';
import { defaultLimits } from '../system/core/limits.js';
import type { TokenProvider } from './types.js';

/**
 * HS256 JWTs signed here with the target's secret (CHAT_TOKEN_SECRET) and the default issuer and
 * audience: no request per device, which matters when tens of thousands of virtual devices
 * connect and reconnect. A target with other token settings is driven through /dev/token.
 */
export function signedTokenProvider(secret: string, ttlMs = defaultLimits.tokenTtlMs): TokenProvider {
  const tokens = new JwtTokenAuthority(sharedSecretTokenSettings(secret), systemClock, defaultLimits);
  return async (userId, deviceId) => (await tokens.issue({ userId, deviceId }, ttlMs)).token;
}

/** Tokens from a development server's `POST /dev/token` (servers started with --dev-tokens). */
export function devTokenProvider(httpUrl: string): TokenProvider {
  return async (userId, deviceId) => {
    const response = await fetch(`${httpUrl}/dev/token`, { method: 'POST', body: JSON.stringify({ userId, deviceId }) });
    if (!response.ok) throw new Error(`dev token for ${userId}/${deviceId}: HTTP ${response.status} ${await response.text()}`);
    return ((await response.json()) as { token: string }).token;
  };
}

/** The gateway's HTTP base URL from its WebSocket URL (same host and port: ws://h:p/ws → http://h:p). */
export function httpUrlOf(wsUrl: string): string {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  return `${url.protocol}//${url.host}`;
}

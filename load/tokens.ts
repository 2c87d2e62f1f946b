import { systemClock } from '../system/adapters/node/system-clock.js';
import { defaultLimits } from '../system/core/limits.js';
import { TokenService } from '../system/services/auth-tokens.js';
import type { TokenProvider } from './types.js';

/**
 * Tokens signed here with the target's secret (CHAT_TOKEN_SECRET): no request per device, which
 * matters when tens of thousands of virtual devices connect and reconnect.
 */
export function signedTokenProvider(secret: string, ttlMs = defaultLimits.tokenTtlMs): TokenProvider {
  const tokens = new TokenService(secret, systemClock);
  return async (userId, deviceId) => tokens.issue({ userId, deviceId }, ttlMs).token;
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

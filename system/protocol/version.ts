/**
 * Protocol version. A client names the version it speaks in `auth`; the server answers with
 * UNSUPPORTED_VERSION when it cannot. Bump on any incompatible change and record it in docs/protocol.md.
 */
export const PROTOCOL_VERSION = 1;
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1];

/** WebSocket close codes the gateway uses (4000-4999 is the application range). */
export const CloseCodes = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY: 1008,
  TOO_BIG: 1009,
  AUTH_FAILED: 4001,
  HEARTBEAT_TIMEOUT: 4002,
  SLOW_CONSUMER: 4003,
  RATE_LIMITED: 4004,
  DEVICE_UNLINKED: 4005,
  SHUTTING_DOWN: 4006,
  REPLACED: 4007,
} as const;

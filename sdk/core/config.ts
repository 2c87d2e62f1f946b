import type { ClientCoreConfig } from './ports.js';

/**
 * A client core configuration: the given settings over the SDK's defaults (docs in
 * ChatClientOptions). The backoff ceilings are never below the floor.
 */
export function clientCoreConfig(settings: Partial<ClientCoreConfig> = {}): ClientCoreConfig {
  const min = settings.reconnectMinDelayMs ?? 250;
  return {
    urls: settings.urls ?? [],
    deviceId: settings.deviceId,
    autoAck: settings.autoAck ?? true,
    sendTimeoutMs: settings.sendTimeoutMs ?? 5_000,
    requestTimeoutMs: settings.requestTimeoutMs ?? 10_000,
    connectTimeoutMs: settings.connectTimeoutMs ?? 10_000,
    reconnectMinDelayMs: min,
    reconnectMaxDelayMs: Math.max(min, settings.reconnectMaxDelayMs ?? 15_000),
    sendRetryMaxDelayMs: Math.max(min, settings.sendRetryMaxDelayMs ?? 5_000),
    maxReconnectAttempts: settings.maxReconnectAttempts ?? Number.POSITIVE_INFINITY,
    idleTimeoutMs: settings.idleTimeoutMs,
    syncRetryDelayMs: settings.syncRetryDelayMs ?? 1_000,
    validateFrames: settings.validateFrames ?? true,
    catchUpOnConnect: settings.catchUpOnConnect ?? true,
    tokenRefreshes: settings.tokenRefreshes ?? false,
    recordsLink: settings.recordsLink ?? true,
    acksPerInstant: settings.acksPerInstant ?? false,
    history: settings.history,
  };
}

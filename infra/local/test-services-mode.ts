/**
 * Which backing services the integration tests get, chosen by CHAT_TEST_SERVICES:
 *
 *   local       the local processes of `npm run services` (no Docker needed)
 *   containers  throwaway containers through testcontainers; fails when no engine answers
 *   auto        containers when an engine answers, local processes otherwise (the default)
 *   none        nothing: unit tests only (vitest.config.ts leaves the real-service suites out)
 *
 * Pure: the caller probes for an engine (only when the mode needs one) and passes the answer in.
 */
import { servicesError, ServicesErrorCodes } from './error-codes.js';

export const TEST_SERVICES_MODES = ['auto', 'local', 'containers', 'none'] as const;
export type TestServicesMode = (typeof TEST_SERVICES_MODES)[number];

/** What was started, or nothing. */
export type TestServicesPath = 'local' | 'containers' | 'none';

/** The answer of a container-engine probe; `detail` says where it looked or what answered. */
export interface EngineProbe {
  present: boolean;
  detail: string;
}

export interface TestServicesChoice {
  path: TestServicesPath;
  /** One human-readable reason, printed by the global setup. */
  reason: string;
}

/** Reads CHAT_TEST_SERVICES; unset or empty means `auto`. */
export function parseTestServicesMode(raw: string | undefined): TestServicesMode {
  if (raw === undefined || raw === '') return 'auto';
  // Exact spelling only: vitest.config.ts compares with 'none' as written, and the two must agree.
  if ((TEST_SERVICES_MODES as readonly string[]).includes(raw)) return raw as TestServicesMode;
  throw servicesError(ServicesErrorCodes.BAD_CONFIG, `CHAT_TEST_SERVICES=${raw} is not one of ${TEST_SERVICES_MODES.join(', ')}`);
}

/** Only these modes look for a container engine; `local` and `none` never pay for the probe. */
export function needsEngineProbe(mode: TestServicesMode): boolean {
  return mode === 'auto' || mode === 'containers';
}

/**
 * Picks the path. `engine` is required for the modes that need a probe; for `containers`
 * without an engine it throws SERVICES_CONTAINER_ENGINE_MISSING instead of quietly falling back,
 * because someone who asked for containers wants to know they did not get them.
 */
export function selectTestServices(mode: TestServicesMode, engine?: EngineProbe): TestServicesChoice {
  if (mode === 'none') return { path: 'none', reason: 'CHAT_TEST_SERVICES=none: unit tests only, no services' };
  if (mode === 'local') return { path: 'local', reason: 'CHAT_TEST_SERVICES=local' };
  if (engine === undefined)
    throw servicesError(ServicesErrorCodes.BAD_CONFIG, `CHAT_TEST_SERVICES=${mode} needs a container-engine probe result`);
  if (mode === 'containers') {
    if (!engine.present) {
      throw servicesError(
        ServicesErrorCodes.CONTAINER_ENGINE_MISSING,
        `CHAT_TEST_SERVICES=containers, but no container engine answered (${engine.detail}); ` +
          'start Docker (or set DOCKER_HOST), or use CHAT_TEST_SERVICES=local',
      );
    }
    return { path: 'containers', reason: `CHAT_TEST_SERVICES=containers, engine: ${engine.detail}` };
  }
  return engine.present
    ? { path: 'containers', reason: `auto: container engine found (${engine.detail})` }
    : { path: 'local', reason: `auto: no container engine (${engine.detail})` };
}

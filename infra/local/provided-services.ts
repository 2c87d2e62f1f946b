/**
 * Services someone else started (the test containers of the vitest global setup) and announced
 * through the environment. When CHAT_SERVICES_PROVIDED is set, ensureServices() and serviceEnv()
 * without an explicit config answer with the variables found in the environment instead of
 * starting or pointing at local processes; that is how integration suites which call
 * ensureServices(['redis']) end up on the containers without knowing about them.
 */
import { servicesError, ServicesErrorCodes } from './error-codes.js';
import type { ServiceEnv } from './services-api.js';

/** Names who provided the services ("containers"); unset: the local processes are the services. */
export const PROVIDED_MARKER = 'CHAT_SERVICES_PROVIDED';

export const SERVICE_ENV_KEYS = [
  'CASSANDRA_CONTACT_POINTS',
  'CASSANDRA_LOCAL_DC',
  'REDIS_URL',
  'S3_ENDPOINT',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'S3_REGION',
  'S3_BUCKET',
  'PROMETHEUS_URL',
] as const satisfies ReadonlyArray<keyof ServiceEnv>;

type Env = Readonly<Record<string, string | undefined>>;

/** The announced settings, or undefined when nothing is announced. A partial announcement is an error. */
export function providedServiceEnv(env: Env): ServiceEnv | undefined {
  const provider = env[PROVIDED_MARKER];
  if (provider === undefined || provider === '') return undefined;
  const missing = SERVICE_ENV_KEYS.filter((key) => !env[key]);
  if (missing.length > 0) {
    throw servicesError(
      ServicesErrorCodes.BAD_CONFIG,
      `${PROVIDED_MARKER}=${provider} is set, but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not`,
    );
  }
  return Object.fromEntries(SERVICE_ENV_KEYS.map((key) => [key, env[key] ?? ''])) as unknown as ServiceEnv;
}

/** The variables to put into process.env so test workers (and their children) use the provided services. */
export function announceServices(serviceEnv: ServiceEnv, provider: string): Record<string, string> {
  return { ...serviceEnv, [PROVIDED_MARKER]: provider };
}

/**
 * Programmatic entry points, for the CLI and for tests that need real backing services:
 *
 *   const env = await ensureServices(['cassandra', 'redis']);  // idempotent; returns connection settings
 *   await stopServices(['cassandra']);
 *   serviceEnv();                                              // settings only, nothing started
 */
import { cassandra } from './cassandra.js';
import { HOST, SERVICE_NAMES, loadConfig, type LocalConfig, type ServiceName } from './config.js';
import { servicesError, servicesFailed, ServicesErrorCodes } from './error-codes.js';
import { downService, serviceStatus, upService, type DownResult, type StatusResult, type UpResult } from './lifecycle.js';
import { prometheus } from './prometheus.js';
import { providedServiceEnv } from './provided-services.js';
import { redis } from './redis.js';
import { serviceContext, type ServiceContext, type ServiceDefinition } from './service.js';
import { versitygw } from './versitygw.js';

export { SERVICE_NAMES, type ServiceName } from './config.js';
export type { DownResult, StatusResult, UpResult } from './lifecycle.js';

const DEFINITIONS: Record<ServiceName, ServiceDefinition> = { cassandra, redis, s3: versitygw, prometheus };

/** Connection settings for the application and tests, as environment variables. */
export interface ServiceEnv {
  CASSANDRA_CONTACT_POINTS: string;
  CASSANDRA_LOCAL_DC: string;
  REDIS_URL: string;
  S3_ENDPOINT: string;
  S3_ACCESS_KEY_ID: string;
  S3_SECRET_ACCESS_KEY: string;
  S3_REGION: string;
  S3_BUCKET: string;
  PROMETHEUS_URL: string;
}

export interface ServicesOptions {
  /** Defaults to loadConfig(process.env). */
  config?: LocalConfig;
  /** Progress lines ("cassandra: starting …"); silent by default. */
  log?: (message: string) => void;
}

/**
 * The settings clients should use. Pure: reads config only, starts nothing. Without a config,
 * services announced in the environment (the test containers, see provided-services.ts) win.
 */
export function serviceEnv(config?: LocalConfig): ServiceEnv {
  const provided = config === undefined ? providedServiceEnv(process.env) : undefined;
  return provided ?? envFromConfig(config ?? loadConfig());
}

function envFromConfig(config: LocalConfig): ServiceEnv {
  return {
    CASSANDRA_CONTACT_POINTS: `${HOST}:${config.cassandra.nativePort}`,
    CASSANDRA_LOCAL_DC: config.cassandra.localDc,
    REDIS_URL: `redis://${HOST}:${config.redis.port}`,
    S3_ENDPOINT: `http://${HOST}:${config.s3.port}`,
    S3_ACCESS_KEY_ID: config.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: config.s3.secretAccessKey,
    S3_REGION: config.s3.region,
    S3_BUCKET: config.s3.bucket,
    PROMETHEUS_URL: `http://${HOST}:${config.prometheus.port}`,
  };
}

/** `KEY=value` lines a POSIX shell can source; values are quoted only when they need it. */
export function formatEnv(env: ServiceEnv): string {
  return Object.entries(env)
    .map(([key, value]) => `${key}=${/^[A-Za-z0-9_@%+=:,./-]*$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`}`)
    .join('\n');
}

/** Validates service names; an empty list means all of them. */
export function parseServiceNames(names: readonly string[]): ServiceName[] {
  if (names.length === 0) return [...SERVICE_NAMES];
  const unknown = names.filter((n) => !(SERVICE_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw servicesError(ServicesErrorCodes.BAD_CONFIG, `unknown service ${unknown.join(', ')}; known: ${SERVICE_NAMES.join(', ')}`);
  }
  return [...new Set(names as ServiceName[])];
}

/**
 * Installs, starts and health-checks the named services (all when empty), in parallel.
 * Resolves with the connection settings once every one is healthy; rejects with a
 * SERVICES_SOME_FAILED carrying each failure otherwise.
 */
export async function ensureServices(names: readonly string[] = [], options: ServicesOptions = {}): Promise<ServiceEnv> {
  if (options.config === undefined) {
    // Someone else (the test containers) started them; nothing to do here.
    const provided = providedServiceEnv(process.env);
    if (provided) {
      parseServiceNames(names);
      return provided;
    }
  }
  await upServices(names, options);
  return serviceEnv(options.config ?? loadConfig());
}

/** Like ensureServices, but returns what happened to each service (used by the CLI). */
export function upServices(names: readonly string[] = [], options: ServicesOptions = {}): Promise<UpResult[]> {
  return forEachService(names, options, upService);
}

/** Stops the named services (all when empty) by the pids in their pid files. */
export function stopServices(names: readonly string[] = [], options: ServicesOptions = {}): Promise<DownResult[]> {
  return forEachService(names, options, downService);
}

export function statusServices(names: readonly string[] = [], options: ServicesOptions = {}): Promise<StatusResult[]> {
  return forEachService(names, options, serviceStatus);
}

async function forEachService<T>(
  names: readonly string[],
  options: ServicesOptions,
  action: (def: ServiceDefinition, ctx: ServiceContext) => Promise<T>,
): Promise<T[]> {
  const config = options.config ?? loadConfig();
  const log = options.log ?? (() => {});
  const selected = parseServiceNames(names);
  const settled = await Promise.allSettled(selected.map((name) => action(DEFINITIONS[name], serviceContext(config, name, log))));
  const failures = settled.flatMap((s, i) =>
    s.status === 'rejected' ? [{ service: selected[i] ?? '?', error: s.reason as unknown }] : [],
  );
  if (failures.length > 0) throw servicesFailed(failures);
  return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
}

/**
 * Settings for the local services, read from environment variables with private defaults.
 *
 * Port variables carry a LOCAL_ prefix on purpose: plain names such as REDIS_PORT are set by
 * other tools (Docker links set REDIS_PORT=tcp://…), and we must not pick those up by accident.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { servicesError, ServicesErrorCodes } from './error-codes.js';

export const SERVICE_NAMES = ['cassandra', 'redis', 's3', 'prometheus'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Repository root: this file lives in <root>/infra/local/. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every service binds here only; nothing is reachable from outside the machine. */
export const HOST = '127.0.0.1';

export interface LocalConfig {
  /** Root of all state: data, logs, pid files, downloaded artifacts. */
  root: string;
  /**
   * Downloaded/built artifacts, kept across `down` so the next `up` is fast. Point
   * LOCAL_SERVICES_CACHE outside the work tree to share them between clones (e.g. in CI).
   */
  cacheDir: string;
  cassandra: {
    version: string;
    nativePort: number;
    storagePort: number;
    heap: string;
    /**
     * Which JIT compilers the JVM uses. `c1` (default): the client compiler only, which reaches
     * near-final speed within seconds; `tiered`: the JVM's default C1 + C2, faster once warm but
     * busy compiling for minutes after every start (docs/benchmarks.md, cold-JIT measurements).
     */
    jit: CassandraJit;
    /** A Java 17 binary to use instead of searching for one. */
    java: string | undefined;
    clusterName: string;
    localDc: string;
  };
  redis: { port: number };
  s3: {
    versitygwVersion: string;
    port: number;
    accessKeyId: string;
    secretAccessKey: string;
    region: string;
    bucket: string;
    /** undefined: probe the filesystem for user xattrs; true/false: force the sidecar on/off. */
    sidecar: boolean | undefined;
  };
  prometheus: { port: number; scrapeTargets: string[]; scrapeInterval: string };
}

type Env = Readonly<Record<string, string | undefined>>;

export const CASSANDRA_JITS = ['c1', 'tiered'] as const;
export type CassandraJit = (typeof CASSANDRA_JITS)[number];

/**
 * JVM flags for the JIT choice (LOCAL_CASSANDRA_JIT). With the JVM's default tiered compilers a
 * fresh node spends its first minutes compiling with C2 (measured on 2 cores: ~10 s of compiler CPU
 * over its first few thousand requests, and 2-9x the CPU per request of a warm node), which on a
 * small shared machine becomes the latency of every test and benchmark that runs soon after a
 * start. C1 alone compiles in seconds and serves plain reads and writes close to warm C2's cost
 * (lightweight transactions at about twice it).
 */
export function jitFlags(jit: CassandraJit): string[] {
  return jit === 'c1' ? ['-XX:TieredStopAtLevel=1'] : [];
}

export function loadConfig(env: Env = process.env): LocalConfig {
  const root = path.resolve(env.LOCAL_SERVICES_DIR || path.join(REPO_ROOT, '.services'));
  return {
    root,
    cacheDir: path.resolve(env.LOCAL_SERVICES_CACHE || path.join(root, 'cache')),
    cassandra: {
      version: env.LOCAL_CASSANDRA_VERSION || '5.0.9',
      nativePort: port(env, 'LOCAL_CASSANDRA_PORT', 19042),
      storagePort: port(env, 'LOCAL_CASSANDRA_STORAGE_PORT', 17000),
      heap: heap(env, 'LOCAL_CASSANDRA_HEAP', '1g'),
      jit: oneOf(env, 'LOCAL_CASSANDRA_JIT', CASSANDRA_JITS, 'c1'),
      java: env.LOCAL_CASSANDRA_JAVA || undefined,
      clusterName: 'local',
      // SimpleSnitch always reports this data center name.
      localDc: 'datacenter1',
    },
    redis: { port: port(env, 'LOCAL_REDIS_PORT', 16379) },
    s3: {
      versitygwVersion: env.LOCAL_VERSITYGW_VERSION || 'v1.8.0',
      port: port(env, 'LOCAL_S3_PORT', 17070),
      accessKeyId: env.S3_ACCESS_KEY_ID || 'local-access-key',
      secretAccessKey: env.S3_SECRET_ACCESS_KEY || 'local-secret-key',
      region: env.S3_REGION || 'us-east-1',
      bucket: env.S3_BUCKET || 'chat-media',
      sidecar: flag(env, 'LOCAL_S3_SIDECAR'),
    },
    prometheus: {
      port: port(env, 'LOCAL_PROMETHEUS_PORT', 19090),
      scrapeTargets: scrapeTargets(env.PROMETHEUS_SCRAPE_TARGETS ?? '127.0.0.1:8080'),
      scrapeInterval: duration(env, 'LOCAL_PROMETHEUS_SCRAPE_INTERVAL', '5s'),
    },
  };
}

/** Per-service folder under the root: config, data, log and pid file live together. */
export function serviceDir(config: LocalConfig, name: ServiceName): string {
  return path.join(config.root, name);
}

function port(env: Env, key: string, fallback: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1024 || value > 65535) {
    throw servicesError(ServicesErrorCodes.BAD_CONFIG, `${key}=${raw} is not a port number between 1024 and 65535`);
  }
  return value;
}

function heap(env: Env, key: string, fallback: string): string {
  const raw = env[key] || fallback;
  if (!/^\d+[mMgG]$/.test(raw)) throw servicesError(ServicesErrorCodes.BAD_CONFIG, `${key}=${raw} must look like 768m or 1g`);
  return raw;
}

function oneOf<T extends string>(env: Env, key: string, allowed: readonly T[], fallback: T): T {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw))
    throw servicesError(ServicesErrorCodes.BAD_CONFIG, `${key}=${raw} must be one of ${allowed.join(', ')}`);
  return raw as T;
}

/** A Prometheus duration such as 500ms, 1s or 5s. */
function duration(env: Env, key: string, fallback: string): string {
  const raw = env[key] || fallback;
  if (!/^[1-9]\d*(ms|s|m)$/.test(raw))
    throw servicesError(ServicesErrorCodes.BAD_CONFIG, `${key}=${raw} must be a Prometheus duration such as 1s, 500ms or 1m`);
  return raw;
}

function flag(env: Env, key: string): boolean | undefined {
  const raw = env[key];
  if (raw === undefined || raw === '') return undefined;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw servicesError(ServicesErrorCodes.BAD_CONFIG, `${key}=${raw} must be 1/true/yes or 0/false/no`);
}

/** Parses "host:port,host:port"; an empty string means no application targets. */
export function scrapeTargets(raw: string): string[] {
  const targets = raw
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  for (const target of targets) {
    if (!/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(target)) {
      throw servicesError(ServicesErrorCodes.BAD_CONFIG, `PROMETHEUS_SCRAPE_TARGETS entry "${target}" must be host:port`);
    }
  }
  return targets;
}

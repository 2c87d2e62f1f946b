/**
 * What each service module (cassandra.ts, redis.ts, versitygw.ts, prometheus.ts) provides.
 * The generic lifecycle in lifecycle.ts drives these hooks; a service module only knows how to
 * install, configure, launch and health-check its own server.
 */
import path from 'node:path';
import { serviceDir, type LocalConfig, type ServiceName } from './config.js';
import type { LaunchSpec } from './process.js';

export interface ServiceContext {
  config: LocalConfig;
  /** .services/<name>: config, data, log and pid file. */
  dir: string;
  /** stdout+stderr of the server process. */
  logFile: string;
  /** Output of installers (apt-get, mvn, go install). */
  installLog: string;
  pidFile: string;
  /** Progress messages for a person watching `up`. */
  log: (message: string) => void;
}

export interface ServiceDefinition {
  readonly name: ServiceName;
  /** The port the health check and clients use. */
  port(config: LocalConfig): number;
  /** How long a fresh start may take before `up` gives up. */
  readonly startTimeoutMs: number;
  /** How long `down` waits after SIGTERM before SIGKILL. */
  readonly stopGraceMs: number;
  /** Installs what is missing; must be quick when everything is already there. */
  install(ctx: ServiceContext): Promise<void>;
  /** Writes config files and creates data folders; returns the command to run in the foreground. */
  prepare(ctx: ServiceContext): Promise<LaunchSpec>;
  /** One health probe, bounded in time. Resolves with a short detail, rejects when not healthy. */
  health(ctx: ServiceContext): Promise<string>;
  /** Runs after every successful `up`, fresh start or not (create the bucket, reload config). */
  afterHealthy?(ctx: ServiceContext): Promise<void>;
}

export function serviceContext(config: LocalConfig, name: ServiceName, log: (message: string) => void): ServiceContext {
  const dir = serviceDir(config, name);
  return {
    config,
    dir,
    logFile: path.join(dir, `${name}.log`),
    installLog: path.join(dir, 'install.log'),
    pidFile: path.join(dir, `${name}.pid`),
    log: (message) => log(`${name}: ${message}`),
  };
}

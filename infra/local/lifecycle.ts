/**
 * The generic up/down/status of one service, driving the hooks of its ServiceDefinition.
 *
 * `up` is idempotent: install what is missing, start the process if our pid file does not name
 * a live one, then wait for the health check. `down` signals only the pid in our pid file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HOST } from './config.js';
import { serviceError, ServicesErrorCodes } from './error-codes.js';
import { withLock } from './lock.js';
import {
  canConnect,
  fileSize,
  isAlive,
  pidRecordFor,
  runningProcess,
  spawnDetached,
  stopRecorded,
  tailFile,
  writePidFile,
  type PidRecord,
} from './process.js';
import type { ServiceContext, ServiceDefinition } from './service.js';

/** Long enough for another process's first install (a versitygw build takes minutes). */
const LOCK_WAIT_MS = 30 * 60_000;

export interface UpResult {
  service: string;
  pid: number;
  port: number;
  /** True if this call started the process; false if it was already running. */
  started: boolean;
  /** Time spent installing, in ms (0 when everything was already there). */
  installMs: number;
  /** Time from spawn (or from finding it running) until healthy, in ms. */
  readyMs: number;
  health: string;
}

export async function upService(def: ServiceDefinition, ctx: ServiceContext): Promise<UpResult> {
  fs.mkdirSync(ctx.dir, { recursive: true });
  return withLock(def.name, lockFile(ctx), LOCK_WAIT_MS, async () => {
    const installStart = Date.now();
    await def.install(ctx);
    const installMs = Date.now() - installStart;

    const port = def.port(ctx.config);
    let record = runningProcess(ctx.pidFile);
    const started = record === undefined;
    let logOffset = 0;
    if (record?.port !== undefined && record.port !== port) {
      throw serviceError(
        ServicesErrorCodes.SETTINGS_CHANGED,
        def.name,
        `already running (pid ${record.pid}) on port ${record.port}, but port ${port} was asked for; run \`down ${def.name}\` first`,
      );
    }
    if (!record) {
      // No process of ours: a listener on the port belongs to someone else, and we would
      // either fail to bind or, worse, health-check their server and call it ours.
      if (await canConnect(HOST, port)) {
        throw serviceError(
          ServicesErrorCodes.PORT_IN_USE,
          def.name,
          `port ${HOST}:${port} is already in use by a process that is not ours; stop it or choose another port`,
        );
      }
      const spec = await def.prepare(ctx);
      ctx.log(`starting (${path.basename(spec.command)}), log: ${ctx.logFile}`);
      logOffset = fileSize(ctx.logFile);
      record = pidRecordFor(spawnDetached(spec, ctx.logFile), port);
      writePidFile(ctx.pidFile, record);
    }

    const readyStart = Date.now();
    let health: string;
    try {
      health = await waitHealthy(def, ctx, record, logOffset);
    } catch (err) {
      // Leave nothing half-started behind: the next `up` starts clean.
      if (started) await stopRecorded(ctx.pidFile, def.stopGraceMs);
      throw err;
    }
    await def.afterHealthy?.(ctx);
    return { service: def.name, pid: record.pid, port, started, installMs, readyMs: Date.now() - readyStart, health };
  });
}

async function waitHealthy(def: ServiceDefinition, ctx: ServiceContext, record: PidRecord, logOffset: number): Promise<string> {
  const deadline = Date.now() + def.startTimeoutMs;
  let lastError = 'no health check has run yet';
  for (;;) {
    if (!isAlive(record)) {
      throw serviceError(
        ServicesErrorCodes.PROCESS_EXITED,
        def.name,
        `process ${record.pid} exited before it became healthy. Last log lines:\n${tailFile(ctx.logFile, 20, logOffset)}`,
        ctx.logFile,
      );
    }
    try {
      return await def.health(ctx);
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) {
      throw serviceError(
        ServicesErrorCodes.HEALTH_TIMEOUT,
        def.name,
        `not healthy ${Math.round(def.startTimeoutMs / 1000)}s after start (pid ${record.pid}); last check: ${lastError}`,
        ctx.logFile,
      );
    }
    await sleep(500);
  }
}

export interface DownResult {
  service: string;
  outcome: 'not-running' | 'terminated' | 'killed';
  pid?: number;
}

export async function downService(def: ServiceDefinition, ctx: ServiceContext): Promise<DownResult> {
  fs.mkdirSync(ctx.dir, { recursive: true });
  return withLock(def.name, lockFile(ctx), LOCK_WAIT_MS, async () => {
    const result = await stopRecorded(ctx.pidFile, def.stopGraceMs);
    if (result.stillAlive) {
      throw serviceError(ServicesErrorCodes.STOP_FAILED, def.name, `process ${result.pid} survived SIGTERM and SIGKILL`, ctx.logFile);
    }
    return { service: def.name, outcome: result.outcome, ...(result.pid !== undefined ? { pid: result.pid } : {}) };
  });
}

export interface StatusResult {
  service: string;
  state: 'running' | 'stopped';
  pid?: number;
  port: number;
  /** Health detail, the failing check's message, or a note on a foreign listener. */
  health: string;
  healthy: boolean;
  logFile: string;
}

export async function serviceStatus(def: ServiceDefinition, ctx: ServiceContext): Promise<StatusResult> {
  const port = def.port(ctx.config);
  const base = { service: def.name, port, logFile: ctx.logFile };
  const record = runningProcess(ctx.pidFile);
  if (!record) {
    const foreign = await canConnect(HOST, port);
    return { ...base, state: 'stopped', healthy: false, health: foreign ? 'port in use by a process that is not ours' : '-' };
  }
  if (record.port !== undefined && record.port !== port) {
    const health = `started on port ${record.port}, but the current settings say ${port}`;
    return { ...base, port: record.port, state: 'running', pid: record.pid, healthy: false, health };
  }
  try {
    const health = await withTimeout(def.health(ctx), 10_000);
    return { ...base, state: 'running', pid: record.pid, healthy: true, health };
  } catch (err) {
    return {
      ...base,
      state: 'running',
      pid: record.pid,
      healthy: false,
      health: `unhealthy: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

function lockFile(ctx: ServiceContext): string {
  return path.join(ctx.dir, 'lock');
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms}ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

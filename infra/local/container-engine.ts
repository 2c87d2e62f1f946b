/**
 * Is a container engine reachable? testcontainers' own runtime detection answers that, but
 * loading the library takes ~3 s on the 2-core build machines, which would be paid on every
 * `npm test` there although they have no engine. So a free look for any sign of one comes
 * first (the places testcontainers itself looks: DOCKER_HOST, its properties file, the usual
 * sockets); only when a sign exists is the library asked, and it then pings the engine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EngineProbe } from './test-services-mode.js';

/** A DOCKER_HOST pointing at an unreachable machine must not stall the test run. */
export const ENGINE_PROBE_TIMEOUT_MS = 10_000;

type Env = Readonly<Record<string, string | undefined>>;

export interface EngineHintSources {
  env: Env;
  platform: NodeJS.Platform;
  homeDir: string;
  uid: number;
  exists: (file: string) => boolean;
}

/** Signs that an engine may be there, e.g. ["DOCKER_HOST", "/var/run/docker.sock"]; empty: certainly none. */
export function engineHints(sources: EngineHintSources): string[] {
  const { env, platform, homeDir, uid, exists } = sources;
  const hints: string[] = [];
  if (env.DOCKER_HOST) hints.push('DOCKER_HOST');
  if (env.TESTCONTAINERS_HOST_OVERRIDE) hints.push('TESTCONTAINERS_HOST_OVERRIDE');
  // Windows engines listen on a named pipe, which cannot be checked for cheaply.
  if (platform === 'win32') hints.push('Windows named pipe');
  const files = [
    path.join(homeDir, '.testcontainers.properties'),
    '/var/run/docker.sock',
    env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'docker.sock') : undefined,
    path.join(homeDir, '.docker', 'run', 'docker.sock'),
    path.join(homeDir, '.docker', 'desktop', 'docker.sock'),
    `/run/user/${uid}/docker.sock`,
  ];
  for (const file of files) if (file !== undefined && exists(file)) hints.push(file);
  return hints;
}

/** Answers quickly and prints nothing; never throws. */
export async function probeContainerEngine(env: Env = process.env): Promise<EngineProbe> {
  const hints = engineHints({ env, platform: process.platform, homeDir: os.homedir(), uid: os.userInfo().uid, exists: fs.existsSync });
  if (hints.length === 0) return { present: false, detail: 'no DOCKER_HOST, no Docker socket' };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ENGINE_PROBE_TIMEOUT_MS} ms`)), ENGINE_PROBE_TIMEOUT_MS);
    timer.unref();
  });
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await Promise.race([getContainerRuntimeClient(), timeout]);
    const { host, serverVersion, operatingSystem } = client.info.containerRuntime;
    return { present: true, detail: `engine ${serverVersion} on ${operatingSystem}, ports published on ${host}` };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { present: false, detail: `${hints.join(', ')} found, but the engine did not answer: ${message}` };
  } finally {
    clearTimeout(timer);
  }
}

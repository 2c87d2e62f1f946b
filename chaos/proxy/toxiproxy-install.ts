/**
 * Toxiproxy (MIT) is the fault-injecting TCP proxy of the drills. It is built on demand with
 * `go install` from the Go module proxy into the local-services cache (like versitygw), so a fresh
 * machine or a CI clone gets it inside the drill's own setup, bounded in time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../infra/local/config.js';
import { findCommand, runLogged } from '../../infra/local/install.js';
import { ChaosErrorCodes } from '../error-codes.js';
import { ToolError } from '../../cli/tool-error.js';

/** The module path of the server command; in v2 the package is cmd/server (binary `server`). */
const MODULE = 'github.com/Shopify/toxiproxy/v2/cmd/server';
/** The one version tried and verified here (go1.26, 2 cores: ~15 s with warm Go caches). */
export const TOXIPROXY_VERSION = process.env.CHAOS_TOXIPROXY_VERSION || 'v2.12.0';
export const TOXIPROXY_INSTALL_TIMEOUT_MS = 10 * 60_000;

export function toxiproxyBinaryPath(cacheDir = loadConfig().cacheDir, version = TOXIPROXY_VERSION): string {
  return path.join(cacheDir, `toxiproxy-${version}`, 'server');
}

let building: Promise<string> | undefined;

/** Returns the path of the toxiproxy server binary, building it first when missing (once per process). */
export function ensureToxiproxy(log: (line: string) => void = () => {}): Promise<string> {
  building ??= findOrBuild(log).finally(() => {
    building = undefined;
  });
  return building;
}

async function findOrBuild(log: (line: string) => void): Promise<string> {
  const explicit = process.env.CHAOS_TOXIPROXY_BIN;
  if (explicit) {
    if (!fs.existsSync(explicit)) throw new ToolError(ChaosErrorCodes.PROXY_UNAVAILABLE, `CHAOS_TOXIPROXY_BIN=${explicit} does not exist`);
    return explicit;
  }
  const binary = toxiproxyBinaryPath();
  if (fs.existsSync(binary)) return binary;
  const go = findCommand('go');
  if (!go) throw new ToolError(ChaosErrorCodes.PROXY_UNAVAILABLE, 'the `go` command is needed to build toxiproxy (Go 1.22 or newer)');
  const logFile = path.join(path.dirname(binary), '..', `toxiproxy-${TOXIPROXY_VERSION}-install.log`);
  log(`building toxiproxy ${TOXIPROXY_VERSION} with go install (log: ${logFile})`);
  try {
    // GOBIN is a version-named folder: a half-built binary never lands at the path checked above.
    await runLogged('toxiproxy', go, ['install', `${MODULE}@${TOXIPROXY_VERSION}`], logFile, {
      env: { GOBIN: path.dirname(binary), GOFLAGS: '-buildvcs=false' },
      timeoutMs: TOXIPROXY_INSTALL_TIMEOUT_MS,
    });
  } catch (error) {
    throw new ToolError(ChaosErrorCodes.PROXY_UNAVAILABLE, `could not build toxiproxy: ${(error as Error).message}`);
  }
  if (!fs.existsSync(binary)) throw new ToolError(ChaosErrorCodes.PROXY_UNAVAILABLE, `go install finished but ${binary} is missing`);
  return binary;
}

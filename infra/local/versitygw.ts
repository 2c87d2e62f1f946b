/**
 * S3 API from versitygw (Apache-2.0), built from the Go module proxy with `go install` into
 * .services/cache, serving the posix backend from a folder under .services.
 *
 * The posix backend keeps object metadata (ETag, content type, checksums) in user.* extended
 * attributes. Where the filesystem lacks them (some overlay/tmpfs setups), --sidecar keeps the
 * metadata in files in a side folder instead; we probe once per start.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { HOST, type LocalConfig } from './config.js';
import { serviceError, ServicesErrorCodes } from './error-codes.js';
import { findCommand, runLogged } from './install.js';
import type { ServiceDefinition } from './service.js';

const MODULE = 'github.com/versity/versitygw/cmd/versitygw';

export const versitygw: ServiceDefinition = {
  name: 's3',
  port: (config) => config.s3.port,
  startTimeoutMs: 20_000,
  stopGraceMs: 10_000,

  async install(ctx) {
    const binary = binaryPath(ctx.config);
    if (fs.existsSync(binary)) return;
    const go = findCommand('go');
    if (!go) {
      // Debian's golang is too old for versitygw; the machine image ships a current Go.
      throw serviceError(
        ServicesErrorCodes.INSTALL_FAILED,
        's3',
        'the `go` command is needed to build versitygw; install Go 1.24 or newer',
      );
    }
    const version = ctx.config.s3.versitygwVersion;
    ctx.log(`building versitygw ${version} with go install (a few minutes on 2 cores)…`);
    // GOBIN into a version-named folder: a half-built binary never lands at the path we check.
    const gobin = path.dirname(binary);
    await runLogged('s3', go, ['install', `${MODULE}@${version}`], ctx.installLog, {
      env: { GOBIN: gobin, GOFLAGS: '-buildvcs=false' },
      timeoutMs: 20 * 60_000,
    });
    if (!fs.existsSync(binary))
      throw serviceError(ServicesErrorCodes.INSTALL_FAILED, 's3', `go install finished but ${binary} is missing`, ctx.installLog);
  },

  async prepare(ctx) {
    const dataDir = path.join(ctx.dir, 'data');
    fs.mkdirSync(dataDir, { recursive: true });
    const backendArgs = [dataDir];
    const forced = ctx.config.s3.sidecar;
    if (forced ?? !supportsUserXattrs(dataDir)) {
      const sidecarDir = path.join(ctx.dir, 'meta');
      fs.mkdirSync(sidecarDir, { recursive: true });
      backendArgs.unshift('--sidecar', sidecarDir);
      const why = forced ? 'LOCAL_S3_SIDECAR is set' : 'the filesystem has no user xattrs';
      ctx.log(`${why}: keeping object metadata in ${sidecarDir}`);
    }
    const { port, region, accessKeyId, secretAccessKey } = ctx.config.s3;
    return {
      command: binaryPath(ctx.config),
      args: ['--port', `${HOST}:${port}`, '--region', region, '--quiet', 'posix', ...backendArgs],
      cwd: ctx.dir,
      // Credentials through the environment, so they do not show in `ps`.
      env: { ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey },
    };
  },

  async health(ctx) {
    // An unsigned request gets 403 AccessDenied from a healthy gateway; any S3 XML answer will do.
    const response = await fetch(`${endpoint(ctx.config)}/`, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    if (response.status >= 500) throw new Error(`GET / answered ${response.status}`);
    return `S3 API answering (HTTP ${response.status} to an unsigned GET)`;
  },

  async afterHealthy(ctx) {
    const { ensureBucket } = await import('./s3-bucket.js');
    if (await ensureBucket(ctx.config)) ctx.log(`created bucket ${ctx.config.s3.bucket}`);
  },
};

export function endpoint(config: LocalConfig): string {
  return `http://${HOST}:${config.s3.port}`;
}

export function binaryPath(config: LocalConfig): string {
  return path.join(config.cacheDir, `versitygw-${config.s3.versitygwVersion}`, 'versitygw');
}

/**
 * Node has no xattr API, so ask python3 (present on Debian images) to set one on a scratch file.
 * Without python3 we cannot tell, and the sidecar is the choice that works everywhere.
 */
function supportsUserXattrs(dir: string): boolean {
  const python = findCommand('python3');
  if (!python) return false;
  const probe = path.join(dir, '.xattr-probe');
  fs.writeFileSync(probe, '');
  try {
    const result = spawnSync(python, ['-c', 'import os,sys; os.setxattr(sys.argv[1], "user.probe", b"1")', probe], {
      stdio: 'ignore',
      timeout: 10_000,
    });
    return result.status === 0;
  } finally {
    fs.rmSync(probe, { force: true });
  }
}

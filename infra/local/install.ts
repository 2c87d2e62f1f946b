/**
 * Install helpers: find commands on PATH, run an installer with its output in a log file, and
 * install Debian packages unattended.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { serviceError, ServicesErrorCodes } from './error-codes.js';
import { tailFile } from './process.js';

/** Absolute path of an executable on PATH, or undefined. */
export function findCommand(command: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs: number;
}

/**
 * Runs a command to completion with stdout+stderr appended to logFile. Rejects with an
 * SERVICES_INSTALL_FAILED naming the log (and quoting its tail) on a non-zero exit or timeout.
 */
export function runLogged(service: string, command: string, args: string[], logFile: string, options: RunOptions): Promise<void> {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `\n=== ${new Date().toISOString()} running: ${command} ${args.join(' ')}\n`);
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', fd, fd],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    const fail = (what: string) =>
      reject(
        serviceError(
          ServicesErrorCodes.INSTALL_FAILED,
          service,
          `\`${command} ${args.join(' ')}\` ${what}\n${tailFile(logFile, 15)}`,
          logFile,
        ),
      );
    child.once('error', (err) => {
      clearTimeout(timer);
      fail(`could not start: ${err.message}`);
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else if (sig === 'SIGKILL') fail(`did not finish within ${Math.round(options.timeoutMs / 1000)}s`);
      else fail(`exited with ${code ?? sig}`);
    });
  }).finally(() => fs.closeSync(fd));
}

// apt/dpkg take a system-wide lock, so installs within this process are chained one after
// another, and the package index is refreshed at most once per process.
let aptQueue: Promise<unknown> = Promise.resolve();
let aptUpdated = false;

/** Installs Debian packages unattended (root only). Each call waits for earlier ones. */
export function aptInstall(service: string, packages: string[], logFile: string): Promise<void> {
  const next = aptQueue.then(async () => {
    if (process.getuid?.() !== 0) {
      throw serviceError(
        ServicesErrorCodes.INSTALL_FAILED,
        service,
        `needs Debian packages ${packages.join(' ')}: run as root, or install them yourself`,
      );
    }
    if (!findCommand('apt-get')) {
      throw serviceError(
        ServicesErrorCodes.INSTALL_FAILED,
        service,
        `needs ${packages.join(' ')} but apt-get is not available: install them yourself`,
      );
    }
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    if (!aptUpdated) {
      await runLogged(service, 'apt-get', ['update', '-q'], logFile, { env, timeoutMs: 5 * 60_000 });
      aptUpdated = true;
    }
    await runLogged(service, 'apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], logFile, {
      env,
      timeoutMs: 10 * 60_000,
    });
  });
  // Keep the chain alive after a failure so later installs still run.
  aptQueue = next.catch(() => {});
  return next;
}

/** Returns the command's path, installing the Debian package that provides it if missing. */
export async function ensureCommand(service: string, command: string, aptPackage: string, logFile: string): Promise<string> {
  const found = findCommand(command);
  if (found) return found;
  await aptInstall(service, [aptPackage], logFile);
  const installed = findCommand(command);
  if (!installed)
    throw serviceError(
      ServicesErrorCodes.INSTALL_FAILED,
      service,
      `installed ${aptPackage} but \`${command}\` is still not on PATH`,
      logFile,
    );
  return installed;
}

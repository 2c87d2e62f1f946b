/**
 * Typed errors for the local-services tool. Every message names the service and, where there is
 * one, the log file to read next, because "it timed out" alone is useless in a CI log.
 */

/** A bad environment variable or argument; nothing was started. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Base class for a failure tied to one service. */
export class ServiceError extends Error {
  override readonly name: string = 'ServiceError';

  constructor(
    readonly service: string,
    message: string,
    readonly logFile?: string,
    options?: ErrorOptions,
  ) {
    super(`${service}: ${message}${logFile ? ` (log: ${logFile})` : ''}`, options);
  }
}

/** Downloading or installing the service's binaries failed. */
export class InstallError extends ServiceError {
  override readonly name = 'InstallError';
}

/** The process exited (or was never alive) while we were waiting for it to become healthy. */
export class ProcessExitedError extends ServiceError {
  override readonly name = 'ProcessExitedError';
}

/** The process is alive but its health check did not pass within the time allowed. */
export class HealthTimeoutError extends ServiceError {
  override readonly name = 'HealthTimeoutError';
}

/** Something that is not ours already listens on the port we need. */
export class PortInUseError extends ServiceError {
  override readonly name = 'PortInUseError';
}

/** Our process is running, but was started with other settings (e.g. another port). */
export class SettingsChangedError extends ServiceError {
  override readonly name = 'SettingsChangedError';
}

/** The recorded process would not die, even after SIGKILL. */
export class StopError extends ServiceError {
  override readonly name = 'StopError';
}

/** Another `up`/`down` held the service's lock for too long. */
export class LockTimeoutError extends ServiceError {
  override readonly name = 'LockTimeoutError';
}

/** One or more services failed in a multi-service operation; `failures` keeps each cause. */
export class ServicesFailedError extends Error {
  override readonly name = 'ServicesFailedError';

  constructor(readonly failures: ReadonlyArray<{ service: string; error: unknown }>) {
    super(failures.map((f) => (f.error instanceof Error ? f.error.message : `${f.service}: ${String(f.error)}`)).join('\n'));
  }
}

/** CHAT_TEST_SERVICES=containers was asked for, but no container engine answered. */
export class ContainerEngineMissingError extends Error {
  override readonly name = 'ContainerEngineMissingError';
}

/** The container engine publishes ports somewhere other than this machine's loopback. */
export class ContainerHostError extends Error {
  override readonly name = 'ContainerHostError';
}

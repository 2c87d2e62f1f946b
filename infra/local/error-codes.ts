import { ExitCodes } from '../../checker/run-summary.js';
import { ToolError } from '../../cli/tool-error.js';

/**
 * Stable codes of the local-services tool, thrown as ToolError (cli/README.md). Every message
 * names the service and, where there is one, the log file to read next, because "it timed out"
 * alone is useless in a CI log. `npm run services` exits 1 on each (3 on a bad argument).
 */
export const ServicesErrorCodes = {
  /** A bad environment variable or service name; nothing was started. */
  BAD_CONFIG: 'SERVICES_BAD_CONFIG',
  /** A bad command line (exit 3, like every tool's). */
  BAD_ARGUMENTS: 'SERVICES_BAD_ARGUMENTS',
  /** Downloading or installing the service's binaries failed. */
  INSTALL_FAILED: 'SERVICES_INSTALL_FAILED',
  /** The process exited (or was never alive) while we were waiting for it to become healthy. */
  PROCESS_EXITED: 'SERVICES_PROCESS_EXITED',
  /** The process is alive but its health check did not pass within the time allowed. */
  HEALTH_TIMEOUT: 'SERVICES_HEALTH_TIMEOUT',
  /** Something that is not ours already listens on the port we need. */
  PORT_IN_USE: 'SERVICES_PORT_IN_USE',
  /** Our process is running, but was started with other settings (e.g. another port). */
  SETTINGS_CHANGED: 'SERVICES_SETTINGS_CHANGED',
  /** The recorded process would not die, even after SIGKILL. */
  STOP_FAILED: 'SERVICES_STOP_FAILED',
  /** Another `up`/`down` held the service's lock for too long. */
  LOCK_TIMEOUT: 'SERVICES_LOCK_TIMEOUT',
  /** One or more services failed in a multi-service operation; the message has each failure's. */
  SOME_FAILED: 'SERVICES_SOME_FAILED',
  /** CHAT_TEST_SERVICES=containers was asked for, but no container engine answered. */
  CONTAINER_ENGINE_MISSING: 'SERVICES_CONTAINER_ENGINE_MISSING',
  /** The container engine publishes ports somewhere other than this machine's loopback. */
  CONTAINER_HOST_NOT_LOCAL: 'SERVICES_CONTAINER_HOST_NOT_LOCAL',
} as const;
export type ServicesErrorCode = (typeof ServicesErrorCodes)[keyof typeof ServicesErrorCodes];

/** `npm run services` has always exited 1 when a service fails. */
const SERVICES_FAILED_EXIT = ExitCodes.INVARIANT_VIOLATED;

/** An error of the tool as a whole (configuration, container engine). */
export function servicesError(code: ServicesErrorCode, message: string, options: { cause?: unknown } = {}): ToolError<ServicesErrorCode> {
  return new ToolError(code, message, { ...options, exitCode: SERVICES_FAILED_EXIT });
}

/** A failure tied to one service: the message starts with its name and ends with the log to read. */
export function serviceError(
  code: ServicesErrorCode,
  service: string,
  message: string,
  logFile?: string,
  options: { cause?: unknown } = {},
): ToolError<ServicesErrorCode> {
  return servicesError(code, `${service}: ${message}${logFile ? ` (log: ${logFile})` : ''}`, options);
}

/** Several services failed at once: one error whose message has a line per failure. */
export function servicesFailed(failures: ReadonlyArray<{ service: string; error: unknown }>): ToolError<ServicesErrorCode> {
  const lines = failures.map((f) => (f.error instanceof Error ? f.error.message : `${f.service}: ${String(f.error)}`));
  return servicesError(ServicesErrorCodes.SOME_FAILED, lines.join('\n'), { cause: failures[0]?.error });
}

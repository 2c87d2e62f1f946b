import driver from 'cassandra-driver';
import { ChatError, isChatError } from '../../core/errors.js';

const { errors, types } = driver;
const codes = types.responseErrorCodes;

/**
 * Server answers that mean "the cluster could not do it now", not "the request is wrong":
 * too few replicas alive, a replica timed out or failed, the coordinator is overloaded or starting.
 */
const OUTAGE_RESPONSE_CODES: ReadonlySet<number> = new Set([
  codes.unavailableException,
  codes.overloaded,
  codes.isBootstrapping,
  codes.truncateError,
  codes.writeTimeout,
  codes.readTimeout,
  codes.readFailure,
  codes.writeFailure,
]);

/**
 * Whether a driver error is an outage (retry later; the outcome of a write is unknown) rather than
 * a bug (bad CQL, wrong types, missing schema), which stays a plain Error.
 */
export function isStorageOutage(error: unknown): boolean {
  if (isChatError(error)) return error.code === 'STORAGE_UNAVAILABLE';
  if (error instanceof errors.NoHostAvailableError) return true;
  if (error instanceof errors.OperationTimedOutError) return true;
  if (error instanceof errors.BusyConnectionError) return true;
  if (error instanceof errors.ResponseError) return OUTAGE_RESPONSE_CODES.has(error.code);
  if (typeof error !== 'object' || error === null) return false;
  // A connection closed under an in-flight request (the driver retries only idempotent ones).
  if ((error as { isSocketError?: unknown }).isSocketError === true) return true;
  // Plain Errors the driver throws while its pool to a host is empty or being rebuilt (seen when
  // preparing a statement right after connections were dropped as defunct).
  return error instanceof Error && error.constructor === Error && TRANSIENT_DRIVER_MESSAGES.has(error.message);
}

const TRANSIENT_DRIVER_MESSAGES: ReadonlySet<string> = new Set([
  'No connection available',
  'Connection closed',
  'The operation was already cancelled or timeout elapsed',
]);

/** Outages become ChatError('STORAGE_UNAVAILABLE') (retryable, the driver error as `cause`); anything else is rethrown as is. */
export function toStorageError(error: unknown, operation: string): unknown {
  if (isChatError(error) || !isStorageOutage(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const chatError = new ChatError('STORAGE_UNAVAILABLE', `cassandra ${operation}: ${message}`);
  Object.defineProperty(chatError, 'cause', { value: error, enumerable: false, writable: true, configurable: true });
  return chatError;
}

export function storageUnavailable(message: string): ChatError {
  return new ChatError('STORAGE_UNAVAILABLE', message);
}

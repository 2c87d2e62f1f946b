import type { ErrorCode } from '../system/core/errors.js';
import type { ServerFrameOf } from '../system/protocol/frames.js';

/**
 * Codes the SDK raises itself, for failures no server frame describes. They live beside the
 * server's stable codes (ErrorCode) so an app switches on one `code` field either way.
 */
export const ClientErrorCodes = {
  TIMEOUT: 'No answer arrived in time (request, send attempt, or connect).',
  DISCONNECTED: 'The connection dropped before the answer arrived; the request was not retried.',
  NOT_CONNECTED: 'The client is not connected; requests other than send need a live connection.',
  CLOSED: 'close() was called, or the client stopped for good after a fatal error.',
  CONNECT_FAILED: 'The transport could not be opened, or reconnect attempts ran out.',
  PROTOCOL_ERROR: 'The server sent a frame this SDK could not parse or did not expect.',
  HTTP_ERROR: 'A media upload or download answered with a non-2xx HTTP status.',
  LISTENER_ERROR: 'An application event listener threw; the SDK carried on.',
} as const;

export type ClientErrorCode = keyof typeof ClientErrorCodes;
export type ChatClientErrorCode = ErrorCode | ClientErrorCode;

/** Client-side codes for which repeating the operation later can succeed. */
const RETRYABLE_CLIENT_CODES: ReadonlySet<ChatClientErrorCode> = new Set<ChatClientErrorCode>([
  'TIMEOUT',
  'DISCONNECTED',
  'NOT_CONNECTED',
  'CONNECT_FAILED',
]);

export interface ChatClientErrorOptions {
  retryable?: boolean;
  retryAfterMs?: number;
  /** The client frame type a server error answered, when the server said. */
  inReplyTo?: string;
  cause?: unknown;
}

/** Every error the SDK rejects a promise with or emits as 'error'. */
export class ChatClientError extends Error {
  readonly code: ChatClientErrorCode;
  /** Whether repeating the same operation later can succeed. */
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly inReplyTo: string | undefined;

  constructor(code: ChatClientErrorCode, message: string, options: ChatClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChatClientError';
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_CLIENT_CODES.has(code);
    this.retryAfterMs = options.retryAfterMs;
    this.inReplyTo = options.inReplyTo;
  }

  /** The server's `error` frame, as is: its code, message and retryable flag are authoritative. */
  static fromFrame(frame: ServerFrameOf<'error'>): ChatClientError {
    return new ChatClientError(frame.code as ErrorCode, frame.message, {
      retryable: frame.retryable,
      retryAfterMs: frame.retryAfterMs,
      inReplyTo: frame.inReplyTo,
    });
  }
}

export function isChatClientError(value: unknown): value is ChatClientError {
  return value instanceof ChatClientError;
}

/** Wraps anything thrown (a transport's Error, a token provider's rejection) into a typed error. */
export function toChatClientError(value: unknown, code: ChatClientErrorCode): ChatClientError {
  if (value instanceof ChatClientError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new ChatClientError(code, message, { cause: value });
}

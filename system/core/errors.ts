/**
 * Every error the system reports to a client carries one of these stable codes.
 * The codes are part of the public protocol: never rename one, only add.
 * docs/errors.md lists each code; a test keeps the two in step.
 */
export const ErrorCodes = {
  BAD_FRAME: 'The frame is not valid JSON or not a JSON object.',
  UNKNOWN_FRAME_TYPE: 'The frame type is not part of this protocol version.',
  INVALID_FIELD: 'A field is missing or has the wrong type or format.',
  FRAME_TOO_LARGE: 'The frame is larger than frameBytesMax.',
  MESSAGE_TOO_LARGE: 'The message body is larger than messageBytesMax.',
  UNSUPPORTED_VERSION: 'The client asked for a protocol version this server does not speak.',
  NOT_AUTHENTICATED: 'The first frame must be auth; nothing else is accepted before it.',
  ALREADY_AUTHENTICATED: 'auth was sent twice on one connection.',
  TOKEN_INVALID: 'The token is malformed or its signature does not verify.',
  TOKEN_EXPIRED: 'The token has expired; ask for a new one.',
  DEVICE_UNKNOWN: 'The device in the token is not linked to the user (or was unlinked).',
  DEVICE_LIMIT: 'The user already has devicesPerUserMax devices linked.',
  UNKNOWN_USER: 'A user named in the request does not exist.',
  UNKNOWN_CONVERSATION: 'The conversation does not exist.',
  NOT_A_MEMBER: 'The user is not a member of the conversation (or was not at that point of its history).',
  NOT_AN_ADMIN: 'Only a group admin may do this.',
  GROUP_FULL: 'The group already has groupMembersMax members.',
  ALREADY_A_MEMBER: 'The user is already a member of the group.',
  IDEMPOTENCY_CONFLICT: 'The client message id was already used for a different message.',
  RATE_LIMITED: 'Too many frames; slow down and retry after the hinted delay.',
  SLOW_CONSUMER: 'The connection could not keep up with its deliveries and was closed; reconnect and resync.',
  HEARTBEAT_TIMEOUT: 'No frame arrived within heartbeatTimeoutMs; the connection was considered dead.',
  MEDIA_TOO_LARGE: 'The media size is above mediaBytesMax.',
  MEDIA_TYPE_NOT_ALLOWED: 'The media content type is not on the allowed list.',
  MEDIA_NOT_FOUND: 'No uploaded media with this object key belongs to the conversation.',
  STORAGE_UNAVAILABLE: 'A backing store did not answer in time; the request may be retried.',
  SHUTTING_DOWN: 'The server is shutting down; reconnect to another node.',
  INTERNAL: 'An unexpected server error; the request may be retried.',
  KEY_PACKAGE_INVALID: 'A KeyPackage is malformed, too large, of an unsupported cipher suite, or its signature does not verify.',
  KEY_PACKAGE_NOT_YOURS: "A KeyPackage's credential names another user or device than the one uploading it.",
  KEY_PACKAGE_LIMIT: 'The device already holds keyPackagesPerDeviceMax unclaimed KeyPackages.',
  MLS_EPOCH_CONFLICT: "The MLS commit was made for an epoch that is not the conversation's current one (another commit won the race).",
  AUTH_UNAVAILABLE: 'The keys that verify tokens could not be fetched (the key set URL did not answer); retry later.',
  OVERLOADED: 'The gateway is past its capacity and refused the send unprocessed; retry after the hinted delay.',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export const errorCodeList = Object.keys(ErrorCodes) as ErrorCode[];

/** A failure the client caused or can act on; crosses the wire as an `error` frame. */
export class ChatError extends Error {
  readonly code: ErrorCode;
  /** Whether repeating the same request later can succeed. */
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message?: string, options: { retryable?: boolean; retryAfterMs?: number } = {}) {
    super(message ?? ErrorCodes[code]);
    this.name = 'ChatError';
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_CODES.has(code);
    this.retryAfterMs = options.retryAfterMs;
  }
}

const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'RATE_LIMITED',
  'STORAGE_UNAVAILABLE',
  'SHUTTING_DOWN',
  'INTERNAL',
  'AUTH_UNAVAILABLE',
  'OVERLOADED',
]);

export function isChatError(value: unknown): value is ChatError {
  return value instanceof ChatError;
}

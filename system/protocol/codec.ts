import { ChatError } from '../core/errors.js';
import { clientFrameSchemas, type ClientFrame, type ClientFrameType } from './frames.js';

export interface DecodeFailure {
  error: ChatError;
  /** Echoed so the client can match the error to its request, when the frame got that far. */
  rid?: string;
  type?: string;
}

/**
 * Turns raw text into a validated client frame, or a ChatError with the stable code that says
 * what was wrong. Never throws: bad input is the client's problem, not the process's.
 */
export function decodeClientFrame(raw: string, frameBytesMax: number): { frame: ClientFrame } | DecodeFailure {
  if (Buffer.byteLength(raw, 'utf8') > frameBytesMax) {
    return { error: new ChatError('FRAME_TOO_LARGE', `frame exceeds frameBytesMax (${frameBytesMax} bytes)`) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { error: new ChatError('BAD_FRAME', 'frame is not valid JSON') };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { error: new ChatError('BAD_FRAME', 'frame must be a JSON object') };
  }
  const record = parsed as Record<string, unknown>;
  // Echo only a rid the protocol allows (1-64 characters): an error frame must stay valid itself.
  const rid = typeof record.rid === 'string' && record.rid.length >= 1 && record.rid.length <= 64 ? record.rid : undefined;
  const type = record.type;
  if (typeof type !== 'string' || !Object.hasOwn(clientFrameSchemas, type)) {
    return {
      error: new ChatError('UNKNOWN_FRAME_TYPE', `unknown frame type ${JSON.stringify(type)?.slice(0, 64)}`),
      rid,
    };
  }
  const schema = clientFrameSchemas[type as ClientFrameType];
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.join('.') || '(frame)';
    return {
      error: new ChatError('INVALID_FIELD', `${type}: ${where}: ${issue?.message ?? 'invalid'}`),
      rid,
      type,
    };
  }
  return { frame: result.data as ClientFrame };
}

/**
 * Fan-out hands one frame object to every recipient connection; remembering its text by object
 * identity serializes a 256-member group message once instead of 256 times.
 */
const encoded = new WeakMap<object, string>();

export function encodeFrame(frame: object): string {
  let text = encoded.get(frame);
  if (text === undefined) {
    text = JSON.stringify(frame);
    encoded.set(frame, text);
  }
  return text;
}

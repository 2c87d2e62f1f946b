import { ChatError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import { frameArrayBounds, type FrameArrayBounds } from './frame-array-bounds.js';
import { checkFrameArrays } from './frame-array-guard.js';
import { countJsonValues } from './json-value-count.js';
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
export function decodeClientFrame(raw: string, limits: Limits): { frame: ClientFrame } | DecodeFailure {
  if (Buffer.byteLength(raw, 'utf8') > limits.frameBytesMax) {
    return { error: new ChatError('FRAME_TOO_LARGE', `frame exceeds frameBytesMax (${limits.frameBytesMax} bytes)`) };
  }
  // Every counted value takes a character at least: shorter frames cannot exceed the count.
  if (raw.length > limits.frameValuesMax && countJsonValues(raw, limits.frameValuesMax) > limits.frameValuesMax) {
    return {
      error: new ChatError(
        'FRAME_TOO_LARGE',
        `frame holds more than frameValuesMax (${limits.frameValuesMax}) array entries and object members`,
      ),
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { error: new ChatError('BAD_FRAME', 'frame is not valid JSON') };
  }
  return validateClientFrame(parsed, limits);
}

/**
 * Validates a parsed frame. Arrays are checked against their bounds before any element is
 * validated (frame-array-guard.ts), so what a rejected frame costs does not grow with its arrays.
 */
export function validateClientFrame(parsed: unknown, limits: Limits): { frame: ClientFrame } | DecodeFailure {
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
  const arrayError = checkFrameArrays(type as ClientFrameType, record, boundsFor(limits));
  if (arrayError) return { error: arrayError, rid, type };
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

/** A deployment's limits do not change while it runs: the bounds are derived once per limits object. */
const boundsByLimits = new WeakMap<Limits, FrameArrayBounds>();

function boundsFor(limits: Limits): FrameArrayBounds {
  let bounds = boundsByLimits.get(limits);
  if (!bounds) {
    bounds = frameArrayBounds(limits);
    boundsByLimits.set(limits, bounds);
  }
  return bounds;
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

import { serverFrameSchemas, type ServerFrame, type ServerFrameType } from '../../system/protocol/frames.js';
import { ChatClientError } from '../errors.js';

/** A decoded server frame, nothing to act on (an unknown type), or why the text was refused. */
export type DecodedFrame =
  | { frame: ServerFrame; error?: undefined }
  | { frame?: undefined; error?: undefined }
  | { frame?: undefined; error: ChatClientError; rid: string | undefined };

/**
 * Parses one server text frame. Unknown types are ignored: adding a frame type is a compatible
 * protocol change. With `validate`, the frame is checked against the protocol schemas; an invalid
 * one is refused, with its rid when it had one (so the request waiting for it can fail).
 */
export function decodeServerFrame(text: string, validate: boolean): DecodedFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { error: new ChatClientError('PROTOCOL_ERROR', 'server frame is not JSON'), rid: undefined };
  }
  if (typeof raw !== 'object' || raw === null) {
    return { error: new ChatClientError('PROTOCOL_ERROR', 'server frame is not an object'), rid: undefined };
  }
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(serverFrameSchemas, type)) return {};
  if (!validate) return { frame: raw as ServerFrame };
  const result = serverFrameSchemas[type as ServerFrameType].safeParse(raw);
  if (result.success) return { frame: result.data as ServerFrame };
  const issue = result.error.issues[0];
  const error = new ChatClientError(
    'PROTOCOL_ERROR',
    `invalid ${type} frame: ${issue?.path.join('.') || '(frame)'}: ${issue?.message ?? 'invalid'}`,
  );
  const rid = (raw as { rid?: unknown }).rid;
  return { error, rid: typeof rid === 'string' ? rid : undefined };
}

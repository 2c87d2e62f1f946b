import type { ClientFrameOf } from '../../system/protocol/frames.js';
import { ChatClientError } from '../errors.js';
import type { PendingSend } from './outbox.js';

/**
 * The `send` frame of a pending message, as text, or FRAME_TOO_LARGE when it exceeds the welcome's
 * frameBytesMax. The server rejects an oversized frame before reading its rid, so that error could
 * not be matched to the send, which would then be re-sent forever: it is refused here instead.
 */
export function encodeSendFrame(send: PendingSend, frameBytesMax: unknown): string | ChatClientError {
  const frame: ClientFrameOf<'send'> = {
    type: 'send',
    rid: send.rid,
    conversationId: send.conversationId,
    clientMessageId: send.clientMessageId,
    body: send.bodyBase64,
  };
  if (send.media) frame.media = send.media;
  if (send.mls) frame.mls = send.mls;
  const text = JSON.stringify(frame);
  // UTF-8 is at most 3 bytes per UTF-16 unit: only count bytes when it could matter.
  if (typeof frameBytesMax === 'number' && text.length * 3 > frameBytesMax) {
    const bytes = Buffer.byteLength(text);
    if (bytes > frameBytesMax) {
      return new ChatClientError('FRAME_TOO_LARGE', `send frame is ${bytes} bytes; frameBytesMax is ${frameBytesMax}`, {
        retryable: false,
      });
    }
  }
  return text;
}

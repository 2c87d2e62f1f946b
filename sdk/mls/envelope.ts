import { MlsSessionError } from './errors.js';

/*
 * The body of an MLS message as the server stores it: a two-byte header, then MLS wire messages.
 * A commit and the Welcome it produces travel in one body, so a new member's Welcome is in the
 * conversation exactly where the commit that added it is.
 *
 *   [version=1][kind] …
 *   kind 'a': the application message (MLSMessage, private)
 *   kind 'c': u32 big-endian length, the commit (MLSMessage), then the Welcome (MLSMessage) or nothing
 *   kind 'j': nothing — "add this device" (sent by a new device of a member)
 */

const VERSION = 1;
const KIND_APPLICATION = 0x61;
const KIND_COMMIT = 0x63;
const KIND_JOIN_REQUEST = 0x6a;

export type Envelope =
  | { kind: 'application'; message: Uint8Array }
  | { kind: 'commit'; commit: Uint8Array; welcome: Uint8Array | undefined }
  | { kind: 'join_request' };

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  switch (envelope.kind) {
    case 'application':
      return concat(Uint8Array.of(VERSION, KIND_APPLICATION), envelope.message);
    case 'commit': {
      const length = new Uint8Array(4);
      new DataView(length.buffer).setUint32(0, envelope.commit.byteLength);
      return concat(Uint8Array.of(VERSION, KIND_COMMIT), length, envelope.commit, envelope.welcome ?? new Uint8Array(0));
    }
    case 'join_request':
      return Uint8Array.of(VERSION, KIND_JOIN_REQUEST);
  }
}

export function decodeEnvelope(bytes: Uint8Array): Envelope {
  if (bytes.byteLength < 2 || bytes[0] !== VERSION) throw new MlsSessionError('BAD_ENVELOPE');
  const rest = bytes.subarray(2);
  switch (bytes[1]) {
    case KIND_APPLICATION:
      if (rest.byteLength === 0) throw new MlsSessionError('BAD_ENVELOPE');
      return { kind: 'application', message: rest };
    case KIND_COMMIT: {
      if (rest.byteLength < 4) throw new MlsSessionError('BAD_ENVELOPE');
      const length = new DataView(rest.buffer, rest.byteOffset, 4).getUint32(0);
      if (length === 0 || 4 + length > rest.byteLength) throw new MlsSessionError('BAD_ENVELOPE');
      const welcome = rest.subarray(4 + length);
      return { kind: 'commit', commit: rest.subarray(4, 4 + length), welcome: welcome.byteLength > 0 ? welcome : undefined };
    }
    case KIND_JOIN_REQUEST:
      return { kind: 'join_request' };
    default:
      throw new MlsSessionError('BAD_ENVELOPE');
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

import type { ErrorCode } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import { frameArrayBounds, type ArrayBound } from '../protocol/frame-array-bounds.js';
import { clientFrameSchemas, type ClientFrameType } from '../protocol/frames.js';

/** One frame built to cost the server as much as its type allows, as the text a client sends. */
export interface HostileFrame {
  type: ClientFrameType;
  /** What makes it costly, for reports. */
  variant: string;
  /** Echoed on the answer, so a test can match each answer to its frame. */
  rid: string;
  text: string;
  /** The code the frame decoder refuses it with; undefined when it decodes (and is handled as a request). */
  decodeError: ErrorCode | undefined;
}

/** Left for the frame's other fields and JSON punctuation. */
const ENVELOPE_BYTES = 1024;
/** Left of frameValuesMax for the frame's own members. */
const VALUES_LEFT_FOR_ENVELOPE = 16;

/**
 * The worst frames a hostile, authenticated client can send, for every client frame type, all
 * under frameBytesMax: every type once with as many tiny values as fit (refused before parsing,
 * beyond frameValuesMax) and once padded with one long string (the parse itself is the cost);
 * each array field once longer than its bound with as many entries as a frame may parse, and
 * once exactly at its bound with only the last entry bad (the most per-entry validation a refused
 * frame can still cause). Shared by the fairness test and the hostile-clients benchmark.
 */
export function hostileFrames(limits: Limits): HostileFrame[] {
  const bytesMax = limits.frameBytesMax - ENVELOPE_BYTES;
  const bounds = frameArrayBounds(limits);
  const frames: HostileFrame[] = [];
  for (const type of Object.keys(clientFrameSchemas) as ClientFrameType[]) {
    frames.push(frame(type, 'values-over-max', { pad: Array.from({ length: Math.floor(bytesMax / 2) }, () => 1) }, 'FRAME_TOO_LARGE'));
    for (const [field, bound] of Object.entries(bounds[type] as Record<string, ArrayBound>)) {
      const mostParsed = Array.from({ length: limits.frameValuesMax - VALUES_LEFT_FOR_ENVELOPE }, () => 1);
      frames.push(frame(type, `${field}-oversize`, { [field]: mostParsed }, bound.code));
      const atBound = Array.from({ length: bound.itemsMax }, () => validItem(field, Math.floor(bytesMax / bound.itemsMax)));
      atBound[atBound.length - 1] = 'not valid';
      frames.push(frame(type, `${field}-last-bad`, { ...requiredFields(type), [field]: atBound }, 'INVALID_FIELD'));
    }
    frames.push(padded(type, bytesMax));
  }
  return frames;
}

function frame(type: ClientFrameType, variant: string, fields: Record<string, unknown>, decodeError: ErrorCode | undefined): HostileFrame {
  const rid = `${type}.${variant}`.slice(0, 64);
  return { type, variant, rid, text: JSON.stringify({ type, rid, ...fields }), decodeError };
}

/** Near frameBytesMax of text the schema does not know; `send` carries it as a body that is not base64 at its very end. */
function padded(type: ClientFrameType, bytesMax: number): HostileFrame {
  if (type === 'send') {
    const body = `${'A'.repeat(bytesMax - 1)}!`;
    return frame(type, 'body-bad-at-end', { ...requiredFields(type), body }, 'INVALID_FIELD');
  }
  const pad = 'x'.repeat(bytesMax);
  if (DECODE_WITH_RID_ONLY.has(type)) return frame(type, 'padded', { pad }, undefined);
  return frame(type, 'padded-missing-fields', { pad }, 'INVALID_FIELD');
}

/** Frame types whose schema needs no field but a rid: padded, they still decode and reach their service. */
const DECODE_WITH_RID_ONLY: ReadonlySet<ClientFrameType> = new Set(['heartbeat', 'conversations', 'kp_count', 'kp_upload']);

/** The other fields a frame with an at-bound array needs to reach the array's elements. */
function requiredFields(type: ClientFrameType): Record<string, unknown> {
  switch (type) {
    case 'group_create':
      return { name: 'hostile' };
    case 'group_add':
      return { conversationId: 'grp:0123456789abcdef' };
    case 'send':
      return { conversationId: 'dm:hostile:victim', clientMessageId: 'hostile-1' };
    default:
      return {};
  }
}

/** A valid element of the named array field, about `bytes` long where the field allows that. */
function validItem(field: string, bytes: number): unknown {
  const id = 'u'.repeat(Math.max(1, Math.min(64, bytes - 3)));
  switch (field) {
    case 'keyPackages':
      return 'A'.repeat(Math.max(4, Math.floor((bytes - 3) / 4) * 4));
    case 'exceptDevices':
      return { userId: id.slice(0, 60), deviceId: id.slice(0, 60) };
    default:
      return id;
  }
}

import { MlsSessionError } from './errors.js';
import { fromUtf8, utf8 } from './suite.js';

/** What an encrypted media message carries so the recipient can fetch, check and decrypt the file. */
export interface EncryptedMedia {
  /** Object key of the ciphertext in the conversation's media storage. */
  objectKey: string;
  /** The file's real content type (the upload itself is application/octet-stream). */
  contentType: string;
  /** Plaintext size. */
  sizeBytes: number;
  /** AES-256-GCM key (fresh per file) and nonce, base64. */
  keyBase64: string;
  ivBase64: string;
  /** SHA-256 of the uploaded ciphertext, base64: checked before decrypting. */
  sha256Base64: string;
}

/** The plaintext inside an MLS application message. */
export interface MessageContent {
  text?: string;
  media?: EncryptedMedia;
}

export function encodePayload(content: MessageContent): Uint8Array {
  const payload: MessageContent = {};
  if (content.text !== undefined) payload.text = content.text;
  if (content.media !== undefined) payload.media = content.media;
  return utf8(JSON.stringify({ v: 1, ...payload }));
}

export function decodePayload(bytes: Uint8Array): MessageContent {
  let raw: unknown;
  try {
    raw = JSON.parse(fromUtf8(bytes));
  } catch {
    throw new MlsSessionError('BAD_PAYLOAD', 'the decrypted payload is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || (raw as { v?: unknown }).v !== 1) throw new MlsSessionError('BAD_PAYLOAD');
  const { text, media } = raw as { text?: unknown; media?: unknown };
  const content: MessageContent = {};
  if (typeof text === 'string') content.text = text;
  if (isEncryptedMedia(media)) content.media = media;
  return content;
}

function isEncryptedMedia(value: unknown): value is EncryptedMedia {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return (
    ['objectKey', 'contentType', 'keyBase64', 'ivBase64', 'sha256Base64'].every((k) => typeof m[k] === 'string') &&
    typeof m.sizeBytes === 'number'
  );
}

import type { ConversationId } from '../../system/core/ids.js';
import type { ChatClient } from '../client.js';
import { downloadMedia, uploadMedia, type MediaOptions } from '../media.js';
import type { SendResult } from '../core/outbox.js';
import { openMedia, sealMedia } from './media-crypto.js';
import type { MlsSession } from './mls-session.js';
import type { EncryptedMedia } from './payload.js';

/** Uploaded ciphertext is typed as opaque bytes; the real type travels inside the encrypted message. */
const CIPHERTEXT_CONTENT_TYPE = 'application/octet-stream';

/**
 * Encrypts a file with a fresh key, uploads only the ciphertext, and sends the key, nonce, digest
 * and object key inside an MLS-encrypted message (with an optional caption).
 */
export async function sendEncryptedMedia(
  session: MlsSession,
  conversationId: ConversationId,
  bytes: Uint8Array,
  contentType: string,
  options: MediaOptions & { caption?: string } = {},
): Promise<SendResult> {
  const media = await uploadEncryptedMedia(session.client, conversationId, bytes, contentType, options);
  return session.send(conversationId, options.caption === undefined ? { media } : { media, text: options.caption });
}

/**
 * The first half of sendEncryptedMedia: encrypts and uploads the file, returning what the message
 * must carry. For callers that time the upload apart or send the message themselves.
 */
export async function uploadEncryptedMedia(
  client: ChatClient,
  conversationId: ConversationId,
  bytes: Uint8Array,
  contentType: string,
  options: MediaOptions = {},
): Promise<EncryptedMedia> {
  const sealed = await sealMedia(bytes);
  const ref = await uploadMedia(client, conversationId, sealed.ciphertext, CIPHERTEXT_CONTENT_TYPE, options);
  return {
    objectKey: ref.objectKey,
    contentType,
    sizeBytes: bytes.byteLength,
    keyBase64: sealed.keyBase64,
    ivBase64: sealed.ivBase64,
    sha256Base64: sealed.sha256Base64,
  };
}

/** Downloads the ciphertext a decrypted message points at, checks its digest and decrypts it. */
export async function downloadEncryptedMedia(
  client: ChatClient,
  conversationId: ConversationId,
  media: EncryptedMedia,
  options: MediaOptions = {},
): Promise<Uint8Array> {
  return openMedia(await downloadMedia(client, conversationId, media.objectKey, options), media);
}

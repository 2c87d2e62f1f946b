import { MlsSessionError } from './errors.js';

/*
 * Media is encrypted on the device with a fresh AES-256-GCM key per file; only the ciphertext
 * is uploaded. The key, nonce and the ciphertext's SHA-256 travel inside the MLS-encrypted
 * message, so the server (and the object store) never hold anything that opens the file.
 */

const subtle = globalThis.crypto.subtle;

export interface SealedMedia {
  ciphertext: Uint8Array;
  keyBase64: string;
  ivBase64: string;
  sha256Base64: string;
}

export async function sealMedia(plaintext: Uint8Array): Promise<SealedMedia> {
  const rawKey = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const key = await subtle.importKey('raw', rawKey, 'AES-GCM', false, ['encrypt']);
  const ciphertext = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv }, key, plaintext as Uint8Array<ArrayBuffer>));
  return {
    ciphertext,
    keyBase64: Buffer.from(rawKey).toString('base64'),
    ivBase64: Buffer.from(iv).toString('base64'),
    sha256Base64: await sha256Base64(ciphertext),
  };
}

/** Checks the digest first (a clear MEDIA_DIGEST_MISMATCH for altered bytes), then decrypts. */
export async function openMedia(
  ciphertext: Uint8Array,
  sealed: { keyBase64: string; ivBase64: string; sha256Base64: string },
): Promise<Uint8Array> {
  if ((await sha256Base64(ciphertext)) !== sealed.sha256Base64) throw new MlsSessionError('MEDIA_DIGEST_MISMATCH');
  const key = await subtle.importKey('raw', Buffer.from(sealed.keyBase64, 'base64'), 'AES-GCM', false, ['decrypt']);
  try {
    return new Uint8Array(
      await subtle.decrypt({ name: 'AES-GCM', iv: Buffer.from(sealed.ivBase64, 'base64') }, key, ciphertext as Uint8Array<ArrayBuffer>),
    );
  } catch (error) {
    throw new MlsSessionError('MEDIA_DIGEST_MISMATCH', 'the media does not decrypt with the key in the message', { cause: error });
  }
}

async function sha256Base64(bytes: Uint8Array): Promise<string> {
  return Buffer.from(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)).toString('base64');
}

import type { MediaRef } from '../system/core/events.js';
import type { ConversationId } from '../system/core/ids.js';
import type { ChatClient } from './client.js';
import { ChatClientError } from './errors.js';

/** Injectable HTTP, so tests and the simulator can stand in for object storage. */
export type FetchLike = (
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: Uint8Array },
) => Promise<{
  ok: boolean;
  status: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

export interface MediaOptions {
  /** Default: the global fetch. */
  fetch?: FetchLike;
}

/**
 * Uploads bytes for a message in the conversation and returns the reference to send with it
 * (`client.send(id, body, { media })`). The bytes go straight to object storage through a
 * signed URL; the chat server only authorizes. The URL is bound to the bytes' SHA-256, declared
 * when asking for it, and is write-once: the store refuses other bytes, and refuses any PUT once
 * an object is stored, so the media a message points at cannot be replaced after it is sent.
 */
export async function uploadMedia(
  client: ChatClient,
  conversationId: ConversationId,
  bytes: Uint8Array,
  contentType: string,
  options: MediaOptions = {},
): Promise<MediaRef> {
  const sha256 = await sha256Base64(bytes);
  const signed = await client.requestUpload(conversationId, bytes.byteLength, contentType, sha256);
  const response = await fetchOf(options)(signed.url, {
    method: signed.method,
    headers: uploadHeaders(contentType, sha256),
    body: bytes,
  });
  // 412: an object is already stored under the key. The URL takes no other bytes than these, so
  // they are ours (a PUT repeated after a lost answer): the upload is done.
  if (!response.ok && response.status !== 412) throw httpError('upload', response.status);
  return { objectKey: signed.objectKey, contentType, sizeBytes: bytes.byteLength };
}

/**
 * The headers a PUT to an upload URL must carry (docs/protocol.md, section 7.7): the content
 * type, the declared checksum, and `If-None-Match: *`. The store refuses a PUT without them.
 */
export function uploadHeaders(contentType: string, sha256: string): Record<string, string> {
  return { 'Content-Type': contentType, 'x-amz-checksum-sha256': sha256, 'If-None-Match': '*' };
}

/** SHA-256 of the bytes, base64: the `sha256` of `media_upload` (WebCrypto, in Node and browsers). */
export async function sha256Base64(bytes: Uint8Array): Promise<string> {
  // A copy: digest() does not take views of shared buffers in its typing.
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new Uint8Array(bytes));
  return Buffer.from(digest).toString('base64');
}

/** Downloads the media a message refers to. */
export async function downloadMedia(
  client: ChatClient,
  conversationId: ConversationId,
  objectKey: string,
  options: MediaOptions = {},
): Promise<Uint8Array> {
  const signed = await client.requestDownload(conversationId, objectKey);
  const response = await fetchOf(options)(signed.url, { method: signed.method });
  if (!response.ok) throw httpError('download', response.status);
  return new Uint8Array(await response.arrayBuffer());
}

function fetchOf(options: MediaOptions): FetchLike {
  return options.fetch ?? (globalThis.fetch as unknown as FetchLike);
}

function httpError(what: string, status: number): ChatClientError {
  // 5xx and 429 are the store's transient trouble; 403 usually means the signed URL expired,
  // which a fresh request fixes too, but 4xx in general is not worth repeating as is (400
  // BadDigest: the bytes changed on the way, or differ from the checksummed ones).
  const retryable = status >= 500 || status === 429 || status === 403;
  return new ChatClientError('HTTP_ERROR', `media ${what} failed with HTTP ${status}`, { retryable });
}

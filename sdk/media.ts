import type { MediaRef } from '../system/core/events.js';
import type { ConversationId } from '../system/core/ids.js';
import type { ChatClient } from './client.js';
import { ChatClientError } from './errors.js';

/** Injectable HTTP, so tests and the simulator can stand in for object storage. */
export type FetchLike = (url: string, init: { method: string; headers?: Record<string, string>; body?: Uint8Array }) => Promise<{
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
 * signed URL; the chat server only authorizes.
 */
export async function uploadMedia(
  client: ChatClient,
  conversationId: ConversationId,
  bytes: Uint8Array,
  contentType: string,
  options: MediaOptions = {},
): Promise<MediaRef> {
  const signed = await client.requestUpload(conversationId, bytes.byteLength, contentType);
  const response = await fetchOf(options)(signed.url, {
    method: signed.method,
    headers: { 'Content-Type': contentType },
    body: bytes,
  });
  if (!response.ok) throw httpError('upload', response.status);
  return { objectKey: signed.objectKey, contentType, sizeBytes: bytes.byteLength };
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
  // which a fresh request fixes too, but 4xx in general is not worth repeating as is.
  const retryable = status >= 500 || status === 429 || status === 403;
  return new ChatClientError('HTTP_ERROR', `media ${what} failed with HTTP ${status}`, { retryable });
}

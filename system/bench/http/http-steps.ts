/**
 * The requests `npm run bench:http` measures, prepared the way a client gets them: a token from
 * `POST /dev/token`, signed media URLs from `media_upload` / `media_download` over the WebSocket
 * (the embedded world signs them for its own blob server), and, when the S3 variables are set,
 * URLs signed by the production S3 adapter, which clients use against the S3 server directly.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ChatClient } from '../../../sdk/client.js';
import { uploadHeaders } from '../../../sdk/media.js';
import { S3BlobStore, s3ConfigFromEnv } from '../../adapters/s3/s3-blob-store.js';

export class HttpBenchSetupError extends Error {
  override readonly name = 'HttpBenchSetupError';
  readonly code = 'BENCH_HTTP_SETUP';
}

export interface HttpStep {
  name: string;
  /** Which server answers: the gateway under test, or the S3 server (the gateway only signs). */
  server: 'gateway' | 's3';
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  /**
   * Uploads: one signed URL (one object) per autocannon connection, as distinct clients upload
   * distinct objects; concurrent PUTs of one key would measure the store's same-key contention.
   */
  urlPerConnection?: string[];
  headers: Record<string, string>;
  body?: Buffer;
  /** Measure while a 1:1 WebSocket load runs on the gateway (what a Prometheus scrape meets). */
  underChatLoad: boolean;
}

const MEDIA_CONTENT_TYPE = 'application/octet-stream';
/** Signed URLs must outlive the run; an hour covers any --duration-s anyone will use. */
const SIGNED_URL_LIFETIME_MS = 60 * 60_000;

async function checkedFetch(what: string, url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new HttpBenchSetupError(`${what}: ${url.split('?')[0]} did not answer: ${(error as Error).message}`);
  }
  if (!response.ok) throw new HttpBenchSetupError(`${what}: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`);
  return response;
}

function tokenRequestBody(userId: string): Buffer {
  return Buffer.from(JSON.stringify({ userId, deviceId: 'bench' }));
}

/** Token issue, embedded media download and upload, and /metrics under chat load. */
export async function gatewaySteps(gateway: { httpUrl: string; wsUrl: string }, mediaBytes: number, connections: number): Promise<HttpStep[]> {
  const userId = `bench-http-${Date.now().toString(36)}`;
  const jsonHeaders = { 'content-type': 'application/json' };
  const tokenResponse = await checkedFetch('token', `${gateway.httpUrl}/dev/token`, { method: 'POST', headers: jsonHeaders, body: tokenRequestBody(userId).toString() });
  const { token } = (await tokenResponse.json()) as { token: string };

  const client = new ChatClient({ urls: [gateway.wsUrl], token, maxReconnectAttempts: 0 });
  const uploadUrls: string[] = [];
  let downloadUrl: string;
  const media = randomBytes(mediaBytes);
  const mediaSha256 = createHash('sha256').update(media).digest('base64');
  try {
    await client.connect();
    const { conversationId } = await client.createGroup('bench-http', []);
    // Upload URLs are write-once (docs/protocol.md, section 7.7): after a connection's first PUT
    // its URL answers 412, so the media-upload step measures mostly that refusal.
    for (let i = 0; i < connections; i++) uploadUrls.push((await client.requestUpload(conversationId, mediaBytes, MEDIA_CONTENT_TYPE, mediaSha256)).url);
    const downloaded = await client.requestUpload(conversationId, mediaBytes, MEDIA_CONTENT_TYPE, mediaSha256);
    await checkedFetch('embedded media upload', downloaded.url, { method: 'PUT', headers: uploadHeaders(MEDIA_CONTENT_TYPE, mediaSha256), body: new Uint8Array(media) });
    downloadUrl = (await client.requestDownload(conversationId, downloaded.objectKey)).url;
  } finally {
    client.close();
  }
  return [
    { name: 'token', server: 'gateway', method: 'POST', url: `${gateway.httpUrl}/dev/token`, headers: jsonHeaders, body: tokenRequestBody(userId), underChatLoad: false },
    { name: 'media-download', server: 'gateway', method: 'GET', url: downloadUrl, headers: {}, underChatLoad: false },
    { name: 'media-upload', server: 'gateway', method: 'PUT', url: uploadUrls[0]!, urlPerConnection: uploadUrls, headers: uploadHeaders(MEDIA_CONTENT_TYPE, mediaSha256), body: media, underChatLoad: false },
    { name: 'metrics', server: 'gateway', method: 'GET', url: `${gateway.httpUrl}/metrics`, headers: {}, underChatLoad: true },
  ];
}

/** Download and upload on the S3 server through URLs the S3 adapter signs (S3_* variables). */
export async function s3Steps(mediaBytes: number, connections: number): Promise<HttpStep[]> {
  // The AWS SDK warns in every Node 20 process that its 2027 releases will need Node 22.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const store = new S3BlobStore(s3ConfigFromEnv());
  try {
    const run = Date.now().toString(36);
    const expiresAtMs = Date.now() + SIGNED_URL_LIFETIME_MS;
    const info = { sizeBytes: mediaBytes, contentType: MEDIA_CONTENT_TYPE };
    const uploadUrls: string[] = [];
    for (let i = 0; i < connections; i++) uploadUrls.push(await store.signUpload(`bench-http/${run}/upload-${i}`, info, expiresAtMs));
    const downloadKey = `bench-http/${run}/download`;
    const media = randomBytes(mediaBytes);
    const headers = { 'content-type': MEDIA_CONTENT_TYPE };
    await checkedFetch('S3 upload', await store.signUpload(downloadKey, info, expiresAtMs), { method: 'PUT', headers, body: new Uint8Array(media) });
    const downloadUrl = await store.signDownload(downloadKey, expiresAtMs);
    return [
      { name: 's3-download', server: 's3', method: 'GET', url: downloadUrl, headers: {}, underChatLoad: false },
      { name: 's3-upload', server: 's3', method: 'PUT', url: uploadUrls[0]!, urlPerConnection: uploadUrls, headers, body: media, underChatLoad: false },
    ];
  } finally {
    store.close();
  }
}

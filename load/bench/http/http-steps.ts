/**
 * The requests `npm run bench:http` measures, prepared the way a client gets them: a token from
 * `POST /dev/token`, signed media URLs from `media_upload` / `media_download` over the WebSocket
 * (the embedded world signs them for its own blob server), and, when the S3 variables are set,
 * URLs signed by the production S3 adapter, which clients use against the S3 server directly.
 *
 * Upload URLs are content-bound and write-once (docs/protocol.md, section 7.7): a second PUT to one
 * answers 412. So an upload step gets a pool of fresh URLs, one per request, signed before the
 * timed phase, and ends early when the pool is used up. The embedded pool is signed in this
 * process with the gateway's store code and secret (see signEmbeddedUploads), not through
 * `media_upload`, which could not hand out thousands of URLs in time.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ChatClient } from '../../../sdk/client.js';
import { uploadHeaders } from '../../../sdk/media.js';
import { EmbeddedBlobStore } from '../../../system/adapters/memory/embedded-blob-store.js';
import { systemClock } from '../../../system/adapters/node/system-clock.js';
import { S3BlobStore, s3ConfigFromEnv } from '../../../system/adapters/s3/s3-blob-store.js';
import type { ConversationId } from '../../../system/core/ids.js';
import { keyPrefix } from '../../../system/services/media-service.js';
import { EMBEDDED_DEV_SECRET } from '../../../system/worlds/embedded-world.js';
import type { StepLoad } from './autocannon-step.js';

export class HttpBenchSetupError extends Error {
  override readonly name = 'HttpBenchSetupError';
  readonly code = 'BENCH_HTTP_SETUP';
}

export interface HttpStep {
  name: string;
  /** Which server answers: the gateway under test, or the S3 server (the gateway only signs). */
  server: 'gateway' | 's3';
  method: 'GET' | 'POST' | 'PUT';
  /** The URL of the request; for uploads, one outside the pool that the check before the run uses up. */
  url: string;
  /**
   * Uploads: a fresh signed URL (a fresh object key) for each request of the run, as every upload
   * a client makes has its own; the run ends when they are used up.
   */
  urlPerRequest?: string[];
  headers: Record<string, string>;
  body?: Buffer;
  /** Measure while a 1:1 WebSocket load runs on the gateway (what a Prometheus scrape meets). */
  underChatLoad: boolean;
}

const MEDIA_CONTENT_TYPE = 'application/octet-stream';
/** Signed URLs must outlive the run; an hour covers any --duration-s anyone will use. */
const SIGNED_URL_LIFETIME_MS = 60 * 60_000;
/**
 * Most bytes one upload step stores: what the embedded world's blob store holds in memory
 * (EmbeddedBlobStore's default capacity; it answers 507 beyond it). The S3 step keeps to it too.
 */
const UPLOAD_STEP_BYTES_MAX = 256 * 1024 * 1024;
/**
 * URLs an upload step may use per second, to size its pool to --duration-s: embedded well above
 * the 8,300 uploads/s of docs/benchmarks.md. S3: two per upload above versitygw's 1,400/s, since
 * versitygw closes the connection after each PUT and the request autocannon has already written
 * on it is lost, and the next goes out with the next URL; S3 URLs take ~2 ms each to sign.
 */
const EMBEDDED_URLS_PER_SECOND_MAX = 20_000;
const S3_URLS_PER_SECOND_MAX = 3_000;
/** S3 URLs signed at once. */
const S3_SIGN_BATCH = 100;

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

/** How many URLs an upload step signs: enough for the duration at `perSecondMax`, within the byte budget. */
function uploadPoolSize(step: string, mediaBytes: number, load: StepLoad, perSecondMax: number, objectsBesides: number): number {
  const size = Math.min(Math.floor(UPLOAD_STEP_BYTES_MAX / mediaBytes) - objectsBesides, Math.ceil(load.durationS * perSecondMax));
  if (size < load.connections) {
    throw new HttpBenchSetupError(
      `${step}: ${Math.max(size, 0)} upload URLs (${perSecondMax}/s of the duration, objects of ${mediaBytes} bytes within ${UPLOAD_STEP_BYTES_MAX}) ` +
        `are fewer than the ${load.connections} connections; raise --duration-s or lower --media-bytes or --connections`,
    );
  }
  return size;
}

/**
 * Embedded upload URLs for `count` fresh keys of the conversation, signed here with the gateway's
 * own code and secret (the one its child process reads: CHAT_TOKEN_SECRET, else the development
 * secret), as `media_upload` signs them: asking the gateway would take minutes at its limit of 50
 * frames per second and connection. A wrong secret shows in the check before the run (403).
 */
async function signEmbeddedUploads(
  httpUrl: string,
  conversationId: ConversationId,
  count: number,
  mediaBytes: number,
  sha256: string,
): Promise<string[]> {
  const store = new EmbeddedBlobStore({ secret: process.env.CHAT_TOKEN_SECRET || EMBEDDED_DEV_SECRET, clock: systemClock });
  store.setBaseUrl(httpUrl);
  const terms = { sizeBytes: mediaBytes, contentType: MEDIA_CONTENT_TYPE, sha256 };
  const expiresAtMs = Date.now() + SIGNED_URL_LIFETIME_MS;
  const urls: string[] = [];
  for (let i = 0; i < count; i++)
    urls.push(await store.signUpload(`${keyPrefix(conversationId)}${randomBytes(16).toString('hex')}`, terms, expiresAtMs));
  return urls;
}

function tokenRequestBody(userId: string): Buffer {
  return Buffer.from(JSON.stringify({ userId, deviceId: 'bench' }));
}

/** Token issue, embedded media download and upload, and /metrics under chat load. */
export async function gatewaySteps(gateway: { httpUrl: string; wsUrl: string }, mediaBytes: number, load: StepLoad): Promise<HttpStep[]> {
  const userId = `bench-http-${Date.now().toString(36)}`;
  const jsonHeaders = { 'content-type': 'application/json' };
  const tokenResponse = await checkedFetch('token', `${gateway.httpUrl}/dev/token`, {
    method: 'POST',
    headers: jsonHeaders,
    body: tokenRequestBody(userId).toString(),
  });
  const { token } = (await tokenResponse.json()) as { token: string };

  // The store also holds the download object and the upload the check before the run makes.
  const poolSize = uploadPoolSize('media-upload', mediaBytes, load, EMBEDDED_URLS_PER_SECOND_MAX, 2);
  const client = new ChatClient({ urls: [gateway.wsUrl], token, maxReconnectAttempts: 0 });
  let conversationId: ConversationId;
  let downloadUrl: string;
  const media = randomBytes(mediaBytes);
  const mediaSha256 = createHash('sha256').update(media).digest('base64');
  try {
    await client.connect();
    ({ conversationId } = await client.createGroup('bench-http', []));
    const downloaded = await client.requestUpload(conversationId, mediaBytes, MEDIA_CONTENT_TYPE, mediaSha256);
    await checkedFetch('embedded media upload', downloaded.url, {
      method: 'PUT',
      headers: uploadHeaders(MEDIA_CONTENT_TYPE, mediaSha256),
      body: new Uint8Array(media),
    });
    downloadUrl = (await client.requestDownload(conversationId, downloaded.objectKey)).url;
  } finally {
    client.close();
  }
  const [checkUrl, ...uploadUrls] = await signEmbeddedUploads(gateway.httpUrl, conversationId, 1 + poolSize, mediaBytes, mediaSha256);
  return [
    {
      name: 'token',
      server: 'gateway',
      method: 'POST',
      url: `${gateway.httpUrl}/dev/token`,
      headers: jsonHeaders,
      body: tokenRequestBody(userId),
      underChatLoad: false,
    },
    { name: 'media-download', server: 'gateway', method: 'GET', url: downloadUrl, headers: {}, underChatLoad: false },
    {
      name: 'media-upload',
      server: 'gateway',
      method: 'PUT',
      url: checkUrl!,
      urlPerRequest: uploadUrls,
      headers: uploadHeaders(MEDIA_CONTENT_TYPE, mediaSha256),
      body: media,
      underChatLoad: false,
    },
    { name: 'metrics', server: 'gateway', method: 'GET', url: `${gateway.httpUrl}/metrics`, headers: {}, underChatLoad: true },
  ];
}

/**
 * Download and upload on the S3 server through URLs the S3 adapter signs (S3_* variables). The
 * upload step is left out unless `wanted` (signing its URLs takes seconds).
 */
export async function s3Steps(mediaBytes: number, load: StepLoad, wanted: (step: string) => boolean = () => true): Promise<HttpStep[]> {
  // The AWS SDK warns in every Node 20 process that its 2027 releases will need Node 22.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const store = new S3BlobStore(s3ConfigFromEnv());
  try {
    const run = Date.now().toString(36);
    const expiresAtMs = Date.now() + SIGNED_URL_LIFETIME_MS;
    const media = randomBytes(mediaBytes);
    // Content-bound, as every upload URL the gateway signs: S3 checks the checksum and If-None-Match.
    const terms = { sizeBytes: mediaBytes, contentType: MEDIA_CONTENT_TYPE, sha256: createHash('sha256').update(media).digest('base64') };
    const headers = uploadHeaders(terms.contentType, terms.sha256);
    const downloadKey = `bench-http/${run}/download`;
    await checkedFetch('S3 upload', await store.signUpload(downloadKey, terms, expiresAtMs), {
      method: 'PUT',
      headers,
      body: new Uint8Array(media),
    });
    const downloadUrl = await store.signDownload(downloadKey, expiresAtMs);
    const steps: HttpStep[] = [{ name: 's3-download', server: 's3', method: 'GET', url: downloadUrl, headers: {}, underChatLoad: false }];
    if (!wanted('s3-upload')) return steps;
    // Objects under bench-http/<run>/ stay in the bucket, as every object the S3 tests upload does.
    const keys = Array.from(
      { length: 1 + uploadPoolSize('s3-upload', mediaBytes, load, S3_URLS_PER_SECOND_MAX, 2) },
      (_, i) => `bench-http/${run}/upload-${i}`,
    );
    const uploadUrls: string[] = [];
    for (let i = 0; i < keys.length; i += S3_SIGN_BATCH) {
      uploadUrls.push(...(await Promise.all(keys.slice(i, i + S3_SIGN_BATCH).map((key) => store.signUpload(key, terms, expiresAtMs)))));
    }
    const [checkUrl, ...pool] = uploadUrls;
    steps.push({
      name: 's3-upload',
      server: 's3',
      method: 'PUT',
      url: checkUrl!,
      urlPerRequest: pool,
      headers,
      body: media,
      underChatLoad: false,
    });
    return steps;
  } finally {
    store.close();
  }
}

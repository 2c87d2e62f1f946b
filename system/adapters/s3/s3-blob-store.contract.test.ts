/**
 * The S3 BlobStore against a real S3 server (versitygw, started by infra/local if it is not
 * running; it is left running afterwards): the BlobStore contract through the presigned URLs
 * themselves, multipart uploads through presigned part URLs, and the failure modes of an
 * unreachable or broken server.
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureServices, type ServiceEnv } from '../../../infra/local/services-api.js';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ChatError } from '../../core/errors.js';
import { uploadHeaders } from '../../ports/blob-store.js';
import { blobStoreContract } from '../../ports/contracts/index.js';
import { patternBytes, uniqueGroupId, uniqueHex } from '../../ports/contracts/support.js';
import { systemClock } from '../node/system-clock.js';
import { S3BlobStore, s3ConfigFromEnv, type S3BlobStoreConfig } from './s3-blob-store.js';
import { MULTIPART_MIN_PART_BYTES, S3MultipartUploads, planParts, type UploadedPart } from './s3-multipart.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let envPromise: Promise<ServiceEnv> | undefined;
/** Starts versitygw once per file (idempotent if it already runs). */
function s3Env(): Promise<ServiceEnv> {
  envPromise ??= ensureServices(['s3']);
  return envPromise;
}

async function realStore(overrides: Partial<S3BlobStoreConfig> = {}): Promise<S3BlobStore> {
  const env = await s3Env();
  return new S3BlobStore({ ...s3ConfigFromEnv({ ...env }), ...overrides });
}

function mediaKey(): string {
  return `m/${uniqueGroupId()}/${uniqueHex()}`;
}

/** A fetch body (Buffer's generic ArrayBufferLike does not satisfy BodyInit's typing). */
function body(bytes: Buffer): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function sha256Base64(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

async function expectChatError(promise: Promise<unknown>, code: string): Promise<ChatError> {
  const error = await promise.then(
    () => expect.fail(`expected ChatError ${code}, got success`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChatError);
  expect((error as ChatError).code, (error as Error).message).toBe(code);
  return error as ChatError;
}

blobStoreContract('S3BlobStore (versitygw)', async () => {
  const store = await realStore();
  return {
    store,
    nowMs: () => systemClock.nowMs(),
    advance: (ms) => sleep(ms),
    // SigV4 expiry has whole seconds from a signing time truncated to the second: a URL may live
    // up to a second past expiresAtMs, so the contract waits that much longer.
    urlTtlMs: 2_000,
    expiryGraceMs: 1_500,
    cleanup: async () => store.close(),
  };
});

describe('S3BlobStore (versitygw): what the presigned URLs bind', () => {
  let store: S3BlobStore;
  beforeAll(async () => {
    store = await realStore();
  });
  afterAll(() => store?.close());

  it('an upload URL without a checksum signs content-length and content-type into X-Amz-SignedHeaders and carries no checksum parameters', async () => {
    const url = new URL(await store.signUpload(mediaKey(), { sizeBytes: 10, contentType: 'image/png' }, systemClock.nowMs() + 60_000));
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(['content-length', 'content-type', 'host']);
    expect(url.searchParams.get('X-Amz-Expires')).toMatch(/^(60|61)$/);
    const names = [...url.searchParams.keys()].map((k) => k.toLowerCase());
    expect(names.filter((n) => n.startsWith('x-amz-checksum') || n === 'x-amz-sdk-checksum-algorithm')).toEqual([]);
    expect(url.pathname.startsWith(`/${store.bucket}/m/`)).toBe(true); // path-style
  });

  it('a content-bound upload URL signs the checksum and If-None-Match as headers, never as query parameters', async () => {
    const bytes = patternBytes(10, 7);
    const url = new URL(
      await store.signUpload(
        mediaKey(),
        { sizeBytes: 10, contentType: 'image/png', sha256: sha256Base64(bytes) },
        systemClock.nowMs() + 60_000,
      ),
    );
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual([
      'content-length',
      'content-type',
      'host',
      'if-none-match',
      'x-amz-checksum-sha256',
    ]);
    const names = [...url.searchParams.keys()].map((k) => k.toLowerCase());
    expect(names.filter((n) => n.startsWith('x-amz-checksum') || n === 'x-amz-sdk-checksum-algorithm' || n === 'if-none-match')).toEqual(
      [],
    );
  });

  it('versitygw ignores a checksum left in the query string: why the adapter signs it as a header', async () => {
    // What the presigner does by default with ChecksumSHA256: x-amz-checksum-sha256 hoisted into
    // the (signed) query string. versitygw v1.8.0 stores other bytes through such a URL.
    const key = mediaKey();
    const declared = patternBytes(10, 8);
    const command = new PutObjectCommand({
      Bucket: store.bucket,
      Key: key,
      ContentLength: 10,
      ContentType: 'image/png',
      ChecksumSHA256: sha256Base64(declared),
    });
    const url = await getSignedUrl(store.client, command, { expiresIn: 60, signableHeaders: new Set(['content-type']) });
    expect(new URL(url).searchParams.get('x-amz-checksum-sha256')).toBe(sha256Base64(declared));
    const response = await fetch(url, { method: 'PUT', body: body(patternBytes(10, 9)), headers: { 'content-type': 'image/png' } });
    expect(response.status).toBe(200);
    expect((await store.stat(key))?.sha256).toBeUndefined();
  });

  it('a content-bound upload: other bytes answer 400 BadDigest, a missing signed header 403, a second PUT 412 PreconditionFailed', async () => {
    const key = mediaKey();
    const declared = patternBytes(10, 10);
    const other = patternBytes(10, 11);
    const terms = { sizeBytes: 10, contentType: 'image/png', sha256: sha256Base64(declared) };
    const url = await store.signUpload(key, terms, systemClock.nowMs() + 60_000);
    const headers = uploadHeaders(terms);
    const wrongBytes = await fetch(url, { method: 'PUT', body: body(other), headers });
    expect(wrongBytes.status).toBe(400);
    expect(await wrongBytes.text()).toContain('BadDigest');
    const ownChecksum = await fetch(url, {
      method: 'PUT',
      body: body(other),
      headers: { ...headers, 'x-amz-checksum-sha256': sha256Base64(other) },
    });
    expect(ownChecksum.status).toBe(403);
    expect(await ownChecksum.text()).toContain('SignatureDoesNotMatch');
    const noCondition = await fetch(url, {
      method: 'PUT',
      body: body(declared),
      headers: { 'content-type': 'image/png', 'x-amz-checksum-sha256': terms.sha256 },
    });
    expect(noCondition.status).toBe(403);
    expect(await store.stat(key)).toBeUndefined();

    expect((await fetch(url, { method: 'PUT', body: body(declared), headers })).status).toBe(200);
    expect(await store.stat(key)).toEqual({ sizeBytes: 10, contentType: 'image/png', sha256: terms.sha256 });
    const again = await fetch(url, { method: 'PUT', body: body(declared), headers });
    expect(again.status).toBe(412);
    expect(await again.text()).toContain('PreconditionFailed');
  });

  it('a rejected upload answers 403 SignatureDoesNotMatch (what versitygw enforces)', async () => {
    const url = await store.signUpload(mediaKey(), { sizeBytes: 10, contentType: 'image/png' }, systemClock.nowMs() + 60_000);
    const wrongSize = await fetch(url, { method: 'PUT', body: body(patternBytes(11)), headers: { 'content-type': 'image/png' } });
    expect(wrongSize.status).toBe(403);
    expect(await wrongSize.text()).toContain('SignatureDoesNotMatch');
    const wrongType = await fetch(url, { method: 'PUT', body: body(patternBytes(10)), headers: { 'content-type': 'image/jpeg' } });
    expect(wrongType.status).toBe(403);
    expect(await wrongType.text()).toContain('SignatureDoesNotMatch');
  });

  it('a chunked upload without Content-Length cannot sidestep the signed size', async () => {
    const key = mediaKey();
    const url = new URL(await store.signUpload(key, { sizeBytes: 10, contentType: 'image/png' }, systemClock.nowMs() + 60_000));
    const status = await new Promise<number | string>((resolve) => {
      const req = httpRequest(url, { method: 'PUT', headers: { 'content-type': 'image/png', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', (error) => resolve(String(error)));
      req.write(patternBytes(6));
      req.end(patternBytes(4));
    });
    expect(status).toBe(403);
    expect(await store.stat(key)).toBeUndefined();
  });

  it('lifetimes are clamped to 1 s .. 7 days', async () => {
    const past = new URL(await store.signDownload(mediaKey(), systemClock.nowMs() - 5_000));
    expect(past.searchParams.get('X-Amz-Expires')).toBe('1');
    const far = new URL(await store.signDownload(mediaKey(), systemClock.nowMs() + 30 * 24 * 3600_000));
    expect(far.searchParams.get('X-Amz-Expires')).toBe(String(7 * 24 * 3600));
  });
});

describe('S3MultipartUploads (versitygw): presigned part URLs', () => {
  let store: S3BlobStore;
  let multipart: S3MultipartUploads;
  beforeAll(async () => {
    // Parts of 5 MiB+ take a moment on a busy machine.
    store = await realStore({ requestTimeoutMs: 30_000 });
    multipart = new S3MultipartUploads(store);
  });
  afterAll(() => store?.close());

  const expiry = () => systemClock.nowMs() + 10 * 60_000;

  /** PUTs each part through its own presigned URL, as a client would; answers the ETags. */
  async function uploadParts(upload: { objectKey: string; uploadId: string }, parts: readonly Buffer[]): Promise<UploadedPart[]> {
    const uploaded: UploadedPart[] = [];
    for (const [i, bytes] of parts.entries()) {
      const url = await multipart.signPart(upload, i + 1, bytes.length, expiry());
      const response = await fetch(url, { method: 'PUT', body: body(bytes) });
      expect(response.status, await response.clone().text()).toBe(200);
      const etag = response.headers.get('etag');
      expect(etag).toBeTruthy();
      uploaded.push({ partNumber: i + 1, etag: etag ?? '' });
    }
    return uploaded;
  }

  it('uploads a file in 3 parts of 5 MiB+ through presigned part URLs and serves it whole', async () => {
    const sizes = [MULTIPART_MIN_PART_BYTES, MULTIPART_MIN_PART_BYTES + 1, MULTIPART_MIN_PART_BYTES + 4321];
    const parts = sizes.map((n, i) => patternBytes(n, 10 + i));
    const whole = Buffer.concat(parts);
    const key = mediaKey();
    const upload = await multipart.create(key, { contentType: 'video/mp4' });
    const uploaded = await uploadParts(upload, parts);
    expect(await store.stat(key)).toBeUndefined(); // nothing visible before completion

    expect(await multipart.complete(upload, uploaded)).toEqual({ sizeBytes: whole.length, contentType: 'video/mp4' });
    expect(await store.stat(key)).toEqual({ sizeBytes: whole.length, contentType: 'video/mp4' });
    const download = await fetch(await store.signDownload(key, expiry()));
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('video/mp4');
    expect(sha256(new Uint8Array(await download.arrayBuffer()))).toBe(sha256(whole));
  });

  it('completes from the parts the server lists, without the client-reported ETags', async () => {
    const parts = [patternBytes(MULTIPART_MIN_PART_BYTES, 20), patternBytes(1000, 21)];
    const key = mediaKey();
    const upload = await multipart.create(key, { contentType: 'application/pdf' });
    await uploadParts(upload, parts);
    const listed = await multipart.listParts(upload);
    expect(listed.map((p) => [p.partNumber, p.sizeBytes])).toEqual([
      [1, MULTIPART_MIN_PART_BYTES],
      [2, 1000],
    ]);
    expect(await multipart.complete(upload)).toEqual({ sizeBytes: MULTIPART_MIN_PART_BYTES + 1000, contentType: 'application/pdf' });
  });

  it('a part URL takes exactly its signed size', async () => {
    const upload = await multipart.create(mediaKey(), { contentType: 'video/mp4' });
    const url = await multipart.signPart(upload, 1, 2048, expiry());
    const response = await fetch(url, { method: 'PUT', body: body(patternBytes(2047)) });
    expect(response.status).toBe(403);
    expect(await multipart.listParts(upload)).toEqual([]);
    await multipart.abort(upload);
  });

  it('a part below 5 MiB that is not the last makes completion fail with INVALID_FIELD', async () => {
    const key = mediaKey();
    const upload = await multipart.create(key, { contentType: 'video/mp4' });
    const uploaded = await uploadParts(upload, [patternBytes(1024, 1), patternBytes(1024, 2)]);
    await expectChatError(multipart.complete(upload, uploaded), 'INVALID_FIELD');
    expect(await store.stat(key)).toBeUndefined();
    await multipart.abort(upload);
  });

  it('abort drops the upload: completing it answers MEDIA_NOT_FOUND, aborting again is fine', async () => {
    const key = mediaKey();
    const upload = await multipart.create(key, { contentType: 'video/mp4' });
    const uploaded = await uploadParts(upload, [patternBytes(4096, 3)]);
    await multipart.abort(upload);
    await expectChatError(multipart.complete(upload, uploaded), 'MEDIA_NOT_FOUND');
    await multipart.abort(upload);
    expect(await store.stat(key)).toBeUndefined();
  });

  it('planParts splits a size into parts of the chosen size with the remainder last', () => {
    expect(planParts(12 * 1024 * 1024, MULTIPART_MIN_PART_BYTES)).toEqual([
      MULTIPART_MIN_PART_BYTES,
      MULTIPART_MIN_PART_BYTES,
      2 * 1024 * 1024,
    ]);
    expect(planParts(100)).toEqual([100]);
    expect(() => planParts(100, 1024)).toThrow(RangeError);
  });
});

describe('S3BlobStore when S3 is unreachable or failing', () => {
  const base = { region: 'us-east-1', bucket: 'chat-media', accessKeyId: 'k', secretAccessKey: 's' };
  const servers: Array<Server | ReturnType<typeof createTcpServer>> = [];
  const sockets = new Set<Socket>();

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function closedPort(): Promise<number> {
    const server = createTcpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  it('a closed port: signing still works offline, stat throws STORAGE_UNAVAILABLE quickly', async () => {
    const store = new S3BlobStore({
      ...base,
      endpoint: `http://127.0.0.1:${await closedPort()}`,
      connectionTimeoutMs: 500,
      requestTimeoutMs: 1_000,
      maxAttempts: 2,
    });
    try {
      const url = await store.signUpload('m/g:x/1', { sizeBytes: 10, contentType: 'image/png' }, systemClock.nowMs() + 60_000);
      expect(url).toContain('X-Amz-Signature=');
      const started = performance.now();
      const error = await expectChatError(store.stat('m/g:x/1'), 'STORAGE_UNAVAILABLE');
      expect(performance.now() - started).toBeLessThan(3_000);
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/ECONNREFUSED/);
    } finally {
      store.close();
    }
  });

  it('a server that accepts but never answers: STORAGE_UNAVAILABLE after the request timeout', async () => {
    const server = createTcpServer((socket) => {
      sockets.add(socket); // hold the connection open, say nothing
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const store = new S3BlobStore({
      ...base,
      endpoint: `http://127.0.0.1:${port}`,
      connectionTimeoutMs: 500,
      requestTimeoutMs: 600,
      maxAttempts: 1,
    });
    try {
      const started = performance.now();
      const error = await expectChatError(store.stat('m/g:x/2'), 'STORAGE_UNAVAILABLE');
      expect(performance.now() - started).toBeLessThan(3_000);
      expect(error.message).toMatch(/timeout|ETIMEDOUT/i);
    } finally {
      store.close();
    }
  });

  it('a 5xx answer is STORAGE_UNAVAILABLE, never "not uploaded"', async () => {
    let requests = 0;
    const server = createHttpServer((req, res) => {
      requests++;
      res.writeHead(503, { 'content-type': 'application/xml' }).end();
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const store = new S3BlobStore({ ...base, endpoint: `http://127.0.0.1:${port}`, maxAttempts: 2 });
    try {
      const error = await expectChatError(store.stat('m/g:x/3'), 'STORAGE_UNAVAILABLE');
      expect(error.message).toMatch(/HTTP 503/);
      expect(requests).toBe(2); // one retry, as configured
    } finally {
      store.close();
    }
  });
});

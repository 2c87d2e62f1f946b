import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CHECKSUM_SHA256_HEADER, type BlobStore, type StoredBlobInfo, type UploadTerms } from '../../ports/blob-store.js';
import type { Clock } from '../../ports/clock.js';

interface StoredBlob extends StoredBlobInfo {
  bytes: Buffer;
}

export interface EmbeddedBlobStoreOptions {
  secret: string;
  clock: Clock;
  /** Total bytes held in memory; uploads beyond it are refused with 507. */
  capacityBytes?: number;
  /** Path prefix the HTTP server routes here. */
  pathPrefix?: string;
}

/**
 * The embedded world's object store: objects in memory, served by the system's own HTTP server
 * under /media/ with HMAC-signed, expiring URLs (the same contract as S3 presigned URLs).
 *
 * A content-bound upload URL (`sha256` given) behaves like the S3 adapter's: the PUT must carry
 * the signed checksum in `x-amz-checksum-sha256` and `If-None-Match: *` (403 otherwise, as S3
 * answers a missing signed header), its bytes must hash to it (400 `BadDigest`, nothing stored),
 * and nothing may be stored under the key yet (412 `PreconditionFailed`), so an object never
 * changes once it exists. Refusals start with S3's error code.
 */
export class EmbeddedBlobStore implements BlobStore {
  private readonly objects = new Map<string, StoredBlob>();
  private usedBytes = 0;
  private baseUrl = 'http://127.0.0.1:0';
  private readonly capacityBytes: number;
  readonly pathPrefix: string;

  constructor(private readonly options: EmbeddedBlobStoreOptions) {
    this.capacityBytes = options.capacityBytes ?? 256 * 1024 * 1024;
    this.pathPrefix = options.pathPrefix ?? '/media/';
  }

  /** Set once the HTTP server knows its address. */
  setBaseUrl(url: string): void {
    this.baseUrl = url.replace(/\/$/, '');
  }

  async signUpload(objectKey: string, terms: UploadTerms, expiresAtMs: number): Promise<string> {
    const query = new URLSearchParams({ op: 'put', exp: String(expiresAtMs), len: String(terms.sizeBytes), ct: terms.contentType });
    if (terms.sha256 !== undefined) query.set('sha256', terms.sha256);
    query.set('sig', this.sign(objectKey, query));
    return `${this.baseUrl}${this.pathPrefix}${encodeURI(objectKey)}?${query}`;
  }

  async signDownload(objectKey: string, expiresAtMs: number): Promise<string> {
    const query = new URLSearchParams({ op: 'get', exp: String(expiresAtMs) });
    query.set('sig', this.sign(objectKey, query));
    return `${this.baseUrl}${this.pathPrefix}${encodeURI(objectKey)}?${query}`;
  }

  async stat(objectKey: string): Promise<StoredBlobInfo | undefined> {
    const blob = this.objects.get(objectKey);
    if (!blob) return undefined;
    const info: StoredBlobInfo = { sizeBytes: blob.sizeBytes, contentType: blob.contentType };
    if (blob.sha256 !== undefined) info.sha256 = blob.sha256;
    return info;
  }

  /** Handles PUT/GET on a signed URL. Returns false when the path is not ours. */
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(this.pathPrefix)) return false;
    const objectKey = decodeURI(url.pathname.slice(this.pathPrefix.length));
    const denied = this.checkSignature(objectKey, url.searchParams, req.method === 'PUT' ? 'put' : 'get');
    if (denied) {
      reply(res, 403, denied);
      return true;
    }
    if (req.method === 'GET') this.serve(objectKey, res);
    else if (req.method === 'PUT') this.receive(objectKey, url.searchParams, req, res);
    else reply(res, 405, 'method not allowed');
    return true;
  }

  private serve(objectKey: string, res: ServerResponse): void {
    const blob = this.objects.get(objectKey);
    if (!blob) return reply(res, 404, 'no such object');
    res.writeHead(200, { 'content-type': blob.contentType, 'content-length': blob.sizeBytes });
    res.end(blob.bytes);
  }

  private receive(objectKey: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
    const expectedBytes = Number(query.get('len'));
    const contentType = query.get('ct') ?? 'application/octet-stream';
    const sha256 = query.get('sha256') ?? undefined;
    if ((req.headers['content-type'] ?? '') !== contentType) return reply(res, 400, `content-type must be ${contentType}`);
    if (sha256 !== undefined) {
      // The checksum and the write-once condition are part of what the URL signs, as in S3.
      if (req.headers[CHECKSUM_SHA256_HEADER] !== sha256)
        return reply(res, 403, `SignatureDoesNotMatch: ${CHECKSUM_SHA256_HEADER} must be the signed checksum`);
      if (req.headers['if-none-match'] !== '*') return reply(res, 403, 'SignatureDoesNotMatch: if-none-match must be *');
      if (this.objects.has(objectKey)) return reply(res, 412, 'PreconditionFailed: an object is already stored under this key');
    }
    if (this.usedBytes + expectedBytes > this.capacityBytes) return reply(res, 507, 'embedded media store is full');
    const chunks: Buffer[] = [];
    const hash = createHash('sha256');
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > expectedBytes) {
        reply(res, 413, `body exceeds the signed size of ${expectedBytes} bytes`);
        req.destroy();
        return;
      }
      chunks.push(chunk);
      hash.update(chunk);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      if (received !== expectedBytes) return reply(res, 400, `body is ${received} bytes; the URL was signed for ${expectedBytes}`);
      const blob: StoredBlob = { bytes: Buffer.concat(chunks), sizeBytes: received, contentType };
      if (sha256 !== undefined) {
        if (hash.digest('base64') !== sha256) return reply(res, 400, 'BadDigest: the body does not match the signed SHA-256 checksum');
        // A concurrent PUT of the same URL may have finished first.
        if (this.objects.has(objectKey)) return reply(res, 412, 'PreconditionFailed: an object is already stored under this key');
        blob.sha256 = sha256;
      }
      const previous = this.objects.get(objectKey);
      if (previous) this.usedBytes -= previous.sizeBytes;
      this.objects.set(objectKey, blob);
      this.usedBytes += received;
      reply(res, 200, 'stored');
    });
  }

  private checkSignature(objectKey: string, query: URLSearchParams, op: 'put' | 'get'): string | undefined {
    if (query.get('op') !== op) return 'URL was signed for another method';
    const exp = Number(query.get('exp'));
    if (!Number.isFinite(exp) || exp < this.options.clock.nowMs()) return 'URL has expired';
    const given = Buffer.from(query.get('sig') ?? '');
    const unsigned = new URLSearchParams(query);
    unsigned.delete('sig');
    const expected = Buffer.from(this.sign(objectKey, unsigned));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad signature';
    return undefined;
  }

  private sign(objectKey: string, query: URLSearchParams): string {
    return createHmac('sha256', this.options.secret).update(`${objectKey}?${query.toString()}`).digest('base64url');
  }
}

function reply(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(message);
}

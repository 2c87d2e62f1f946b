import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlobInfo, BlobStore } from '../../ports/blob-store.js';
import type { Clock } from '../../ports/clock.js';

interface StoredBlob extends BlobInfo {
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

  async signUpload(objectKey: string, info: BlobInfo, expiresAtMs: number): Promise<string> {
    const query = new URLSearchParams({ op: 'put', exp: String(expiresAtMs), len: String(info.sizeBytes), ct: info.contentType });
    query.set('sig', this.sign(objectKey, query));
    return `${this.baseUrl}${this.pathPrefix}${encodeURI(objectKey)}?${query}`;
  }

  async signDownload(objectKey: string, expiresAtMs: number): Promise<string> {
    const query = new URLSearchParams({ op: 'get', exp: String(expiresAtMs) });
    query.set('sig', this.sign(objectKey, query));
    return `${this.baseUrl}${this.pathPrefix}${encodeURI(objectKey)}?${query}`;
  }

  async stat(objectKey: string): Promise<BlobInfo | undefined> {
    const blob = this.objects.get(objectKey);
    return blob && { sizeBytes: blob.sizeBytes, contentType: blob.contentType };
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
    if ((req.headers['content-type'] ?? '') !== contentType) return reply(res, 400, `content-type must be ${contentType}`);
    if (this.usedBytes + expectedBytes > this.capacityBytes) return reply(res, 507, 'embedded media store is full');
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > expectedBytes) {
        reply(res, 413, `body exceeds the signed size of ${expectedBytes} bytes`);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      if (received !== expectedBytes) return reply(res, 400, `body is ${received} bytes; the URL was signed for ${expectedBytes}`);
      const previous = this.objects.get(objectKey);
      if (previous) this.usedBytes -= previous.sizeBytes;
      this.objects.set(objectKey, { bytes: Buffer.concat(chunks), sizeBytes: received, contentType });
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

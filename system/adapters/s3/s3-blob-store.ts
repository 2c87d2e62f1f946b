/**
 * BlobStore on S3 (or an S3-compatible server such as versitygw, MinIO, R2): presigned PUT and
 * GET URLs for clients, HeadObject for stat. See docs/media-and-push.md for the settings and what
 * the URLs bind.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ChatError } from '../../core/errors.js';
import { CHECKSUM_SHA256_HEADER, type BlobStore, type StoredBlobInfo, type UploadTerms } from '../../ports/blob-store.js';
import type { Clock } from '../../ports/clock.js';
import { systemClock } from '../node/system-clock.js';

export interface S3BlobStoreConfig {
  /** e.g. https://s3.eu-west-1.amazonaws.com, or http://127.0.0.1:17070 for the local versitygw. */
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Bucket in the path (http://host/bucket/key), not in the host name; S3-compatible servers need it. Default true. */
  forcePathStyle?: boolean;
  /** Time allowed to establish the TCP connection (default 2000 ms). */
  connectionTimeoutMs?: number;
  /** Time allowed for a whole request once connected (default 5000 ms). */
  requestTimeoutMs?: number;
  /** Attempts per server call, the first included (default 2: one retry on 5xx, throttling or a dropped connection). */
  maxAttempts?: number;
  /**
   * The clock expiry is computed from. It must be real time: S3 checks X-Amz-Date against its
   * own clock. Default systemClock.
   */
  clock?: Clock;
}

/** The settings from the production environment variables (S3_ENDPOINT, S3_REGION, ...). */
export function s3ConfigFromEnv(env: NodeJS.ProcessEnv = process.env): S3BlobStoreConfig {
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  return {
    endpoint: need('S3_ENDPOINT'),
    region: need('S3_REGION'),
    bucket: need('S3_BUCKET'),
    accessKeyId: need('S3_ACCESS_KEY_ID'),
    secretAccessKey: need('S3_SECRET_ACCESS_KEY'),
    forcePathStyle: true,
  };
}

/** Longest lifetime SigV4 allows for a presigned URL (7 days). */
export const PRESIGN_MAX_SECONDS = 7 * 24 * 60 * 60;

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** What getSignedUrl is given besides the client and the command. */
export type PresignOptions = NonNullable<Parameters<typeof getSignedUrl>[2]>;

export class S3BlobStore implements BlobStore {
  /** The SDK client (multipart uploads and tests use it too). */
  readonly client: S3Client;
  readonly bucket: string;
  readonly clock: Clock;

  constructor(config: S3BlobStoreConfig) {
    this.bucket = config.bucket;
    this.clock = config.clock ?? systemClock;
    this.client = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      forcePathStyle: config.forcePathStyle ?? true,
      // Since @aws-sdk/client-s3 3.729 the SDK adds CRC32 checksums to every request that supports
      // one ('WHEN_SUPPORTED'). In a presigned PutObject that is the checksum of the *empty* body
      // present at signing time, so the real upload fails on S3; and S3-compatible servers often
      // reject the checksum headers/trailers on direct calls. Only send them where the API requires.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: config.maxAttempts ?? 2,
      requestHandler: {
        connectionTimeout: config.connectionTimeoutMs ?? 2_000,
        requestTimeout: config.requestTimeoutMs ?? 5_000,
        // Without it, exceeding requestTimeout only logs a warning and the call hangs on.
        throwOnRequestTimeout: true,
      },
    });
  }

  /**
   * A PUT URL bound to this key, this exact Content-Length and this Content-Type: S3 recomputes
   * the signature from the request's own headers, so another size or type fails with 403
   * SignatureDoesNotMatch before anything is stored.
   *
   * With `sha256` the URL is content-bound and write-once: `x-amz-checksum-sha256` and
   * `If-None-Match: *` are signed as headers, so the PUT must carry exactly them (403 without),
   * S3 checks the body against the checksum (400 BadDigest, nothing stored) and stores only if the
   * key is free (412 PreconditionFailed). The checksum must stay a header: left in the query
   * string (the presigner's default for x-amz-* headers), versitygw v1.8.0 ignores it and stores
   * any bytes.
   */
  async signUpload(objectKey: string, terms: UploadTerms, expiresAtMs: number): Promise<string> {
    const bound = terms.sha256 !== undefined;
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: objectKey,
      ContentLength: terms.sizeBytes,
      ContentType: terms.contentType,
      ...(bound ? { ChecksumSHA256: terms.sha256, IfNoneMatch: '*' } : {}),
    });
    // The presigner never signs content-type unless told to (then any type would be accepted).
    const signableHeaders = new Set(bound ? ['content-type', 'if-none-match'] : ['content-type']);
    const unhoistableHeaders = new Set(bound ? [CHECKSUM_SHA256_HEADER] : []);
    return this.presign(expiresAtMs, 'signUpload', objectKey, (options) =>
      getSignedUrl(this.client, command, { ...options, signableHeaders, unhoistableHeaders }),
    );
  }

  /** A GET URL for this key only; the object is served with the content type it was uploaded with. */
  async signDownload(objectKey: string, expiresAtMs: number): Promise<string> {
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: objectKey });
    return this.presign(expiresAtMs, 'signDownload', objectKey, (options) => getSignedUrl(this.client, command, options));
  }

  /**
   * HeadObject: 404 means nothing was uploaded; any other failure is STORAGE_UNAVAILABLE, never
   * "absent". With ChecksumMode the answer carries the SHA-256 S3 verified at upload (content-bound
   * uploads only).
   */
  async stat(objectKey: string): Promise<StoredBlobInfo | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey, ChecksumMode: 'ENABLED' }));
      const info: StoredBlobInfo = { sizeBytes: head.ContentLength ?? 0, contentType: head.ContentType ?? DEFAULT_CONTENT_TYPE };
      if (head.ChecksumSHA256) info.sha256 = head.ChecksumSHA256;
      return info;
    } catch (error) {
      // A HEAD answer has no body, so a missing bucket is a 404 too (indistinguishable from a missing key).
      if (isNotFound(error)) return undefined;
      throw storageUnavailable('stat', objectKey, error);
    }
  }

  /**
   * Runs `sign` (a getSignedUrl call of this client) with the lifetime until `expiresAtMs`. The
   * signing time is the clock's second (SigV4 dates have whole seconds) and the lifetime is
   * rounded up, so a URL is good until at least `expiresAtMs` and at most a second longer.
   * Lifetimes are clamped to 1 s .. 7 days (the SigV4 limit).
   */
  async presign(
    expiresAtMs: number,
    operation: string,
    objectKey: string,
    sign: (options: PresignOptions) => Promise<string>,
  ): Promise<string> {
    const signingMs = Math.floor(this.clock.nowMs() / 1000) * 1000;
    const expiresIn = Math.min(PRESIGN_MAX_SECONDS, Math.max(1, Math.ceil((expiresAtMs - signingMs) / 1000)));
    try {
      return await sign({ expiresIn, signingDate: new Date(signingMs) });
    } catch (error) {
      throw storageUnavailable(operation, objectKey, error);
    }
  }

  /** Closes the client's sockets. */
  close(): void {
    this.client.destroy();
  }
}

/** The server answered 404 (NotFound for HEAD, NoSuchKey / NoSuchUpload for others). */
export function isNotFound(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.$metadata.httpStatusCode === 404 || error.name === 'NotFound' || error.name === 'NoSuchKey')
  );
}

/** HTTP status of an S3 answer, undefined when no answer arrived (refused, timed out, reset). */
export function httpStatusOf(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

/** Any failure to reach or use the store, as the retryable error the media service passes to clients. */
export function storageUnavailable(operation: string, objectKey: string, error: unknown): ChatError {
  if (error instanceof ChatError) return error;
  return new ChatError('STORAGE_UNAVAILABLE', `object storage ${operation} of ${objectKey} failed: ${describe(error)}`);
}

export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = httpStatusOf(error);
  const code = (error as { code?: unknown }).code;
  const parts = [error.name];
  if (status !== undefined) parts.push(`HTTP ${status}`);
  if (typeof code === 'string' && code !== error.name) parts.push(code);
  return `${parts.join(' ')}: ${error.message || '(no message)'}`;
}

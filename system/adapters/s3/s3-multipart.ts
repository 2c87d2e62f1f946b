/**
 * Multipart uploads for large media, through presigned UploadPart URLs: the server creates the
 * upload, hands the client one URL per part (each bound to its part number and exact size), and
 * completes or aborts it. The client never holds credentials. This is adapter capability; the
 * client protocol does not expose it yet.
 *
 * S3 rules (AWS documents them; versitygw v1.8.0 follows them, see s3-blob-store.contract.test.ts):
 * parts are numbered 1..10000, every part but the last is at least 5 MiB, at most 5 GiB each.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  UploadPartCommand,
  type ListPartsCommandOutput,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ChatError } from '../../core/errors.js';
import type { BlobInfo } from '../../ports/blob-store.js';
import { describe, httpStatusOf, isNotFound, storageUnavailable, type S3BlobStore } from './s3-blob-store.js';

export const MULTIPART_MIN_PART_BYTES = 5 * 1024 * 1024;
export const MULTIPART_MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;
export const MULTIPART_MAX_PARTS = 10_000;

export interface MultipartUpload {
  objectKey: string;
  uploadId: string;
}

export interface UploadedPart {
  partNumber: number;
  /** The ETag header S3 answered the part's PUT with (quotes included). */
  etag: string;
  /** Known when listed by the server (listParts); not needed to complete. */
  sizeBytes?: number;
}

/**
 * Splits `sizeBytes` into part sizes of `partBytes` (the last one takes the remainder), the
 * plan a client follows before asking for part URLs.
 */
export function planParts(sizeBytes: number, partBytes = 8 * 1024 * 1024): number[] {
  if (!Number.isInteger(sizeBytes) || sizeBytes <= 0) throw new RangeError(`sizeBytes must be a positive integer, got ${sizeBytes}`);
  if (partBytes < MULTIPART_MIN_PART_BYTES || partBytes > MULTIPART_MAX_PART_BYTES) {
    throw new RangeError(`partBytes must be within ${MULTIPART_MIN_PART_BYTES}..${MULTIPART_MAX_PART_BYTES}, got ${partBytes}`);
  }
  const count = Math.ceil(sizeBytes / partBytes);
  if (count > MULTIPART_MAX_PARTS)
    throw new RangeError(`${sizeBytes} bytes in ${partBytes}-byte parts needs ${count} parts; the limit is ${MULTIPART_MAX_PARTS}`);
  return Array.from({ length: count }, (_, i) => (i < count - 1 ? partBytes : sizeBytes - partBytes * (count - 1)));
}

export class S3MultipartUploads {
  constructor(private readonly store: S3BlobStore) {}

  /** Starts an upload; the content type is fixed here (parts carry none). */
  async create(objectKey: string, info: { contentType: string }): Promise<MultipartUpload> {
    const output = await this.call('createMultipartUpload', objectKey, () =>
      this.store.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.store.bucket, Key: objectKey, ContentType: info.contentType }),
      ),
    );
    if (!output.UploadId) throw storageUnavailable('createMultipartUpload', objectKey, new Error('the answer carried no UploadId'));
    return { objectKey, uploadId: output.UploadId };
  }

  /**
   * A PUT URL for one part, bound to the key, the upload id, the part number and the part's exact
   * Content-Length (another size fails with 403 SignatureDoesNotMatch). Presigning is local.
   */
  async signPart(upload: MultipartUpload, partNumber: number, sizeBytes: number, expiresAtMs: number): Promise<string> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MULTIPART_MAX_PARTS) {
      throw new ChatError('INVALID_FIELD', `part number must be within 1..${MULTIPART_MAX_PARTS}, got ${partNumber}`);
    }
    if (!Number.isInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes > MULTIPART_MAX_PART_BYTES) {
      throw new ChatError('INVALID_FIELD', `part size must be within 1..${MULTIPART_MAX_PART_BYTES} bytes, got ${sizeBytes}`);
    }
    const command = new UploadPartCommand({
      Bucket: this.store.bucket,
      Key: upload.objectKey,
      UploadId: upload.uploadId,
      PartNumber: partNumber,
      ContentLength: sizeBytes,
    });
    // content-type stays unsigned: parts have none of their own (the SDK would add octet-stream).
    return this.store.presign(expiresAtMs, 'signPart', upload.objectKey, (options) => getSignedUrl(this.store.client, command, options));
  }

  /** The parts the server holds, in part-number order (follows ListParts pagination). */
  async listParts(upload: MultipartUpload): Promise<UploadedPart[]> {
    const parts: UploadedPart[] = [];
    let marker: string | undefined;
    for (;;) {
      const page: ListPartsCommandOutput = await this.call('listParts', upload.objectKey, () =>
        this.store.client.send(
          new ListPartsCommand({ Bucket: this.store.bucket, Key: upload.objectKey, UploadId: upload.uploadId, PartNumberMarker: marker }),
        ),
      );
      for (const part of page.Parts ?? []) {
        if (part.PartNumber === undefined || part.ETag === undefined) continue;
        parts.push({ partNumber: part.PartNumber, etag: part.ETag, ...(part.Size === undefined ? {} : { sizeBytes: part.Size }) });
      }
      if (!page.IsTruncated || !page.NextPartNumberMarker || page.NextPartNumberMarker === marker) break;
      marker = page.NextPartNumberMarker;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /**
   * Joins the parts into the object and answers its size and type. Without `parts`, uses what the
   * server lists, so the client's word about ETags need not be trusted. Failures: MEDIA_NOT_FOUND
   * (no such upload: aborted, completed, or never made), INVALID_FIELD (S3 refused the parts: too
   * small, missing, wrong ETag or order), STORAGE_UNAVAILABLE (anything else).
   */
  async complete(upload: MultipartUpload, parts?: readonly UploadedPart[]): Promise<BlobInfo> {
    const chosen = parts ? [...parts].sort((a, b) => a.partNumber - b.partNumber) : await this.listParts(upload);
    if (chosen.length === 0) throw new ChatError('INVALID_FIELD', `multipart upload of ${upload.objectKey} has no parts`);
    await this.call('completeMultipartUpload', upload.objectKey, () =>
      this.store.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.store.bucket,
          Key: upload.objectKey,
          UploadId: upload.uploadId,
          MultipartUpload: { Parts: chosen.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      ),
    );
    const info = await this.store.stat(upload.objectKey);
    if (!info)
      throw new ChatError('STORAGE_UNAVAILABLE', `object ${upload.objectKey} is missing right after its multipart upload completed`);
    return info;
  }

  /** Drops the upload and its stored parts. Idempotent: an upload that is already gone is fine. */
  async abort(upload: MultipartUpload): Promise<void> {
    try {
      await this.store.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.store.bucket, Key: upload.objectKey, UploadId: upload.uploadId }),
      );
    } catch (error) {
      if (isNotFound(error) || (error as Error).name === 'NoSuchUpload') return;
      throw storageUnavailable('abortMultipartUpload', upload.objectKey, error);
    }
  }

  private async call<T>(operation: string, objectKey: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw multipartError(operation, objectKey, error);
    }
  }
}

/** S3 error codes that mean the client's parts are wrong, not that storage is down. */
const CLIENT_PART_ERRORS = new Set([
  'EntityTooSmall',
  'EntityTooLarge',
  'InvalidPart',
  'InvalidPartOrder',
  'InvalidArgument',
  'InvalidRequest',
  'MalformedXML',
]);

function multipartError(operation: string, objectKey: string, error: unknown): ChatError {
  if (error instanceof ChatError) return error;
  const name = error instanceof Error ? error.name : '';
  if (name === 'NoSuchUpload' || isNotFound(error)) {
    return new ChatError('MEDIA_NOT_FOUND', `no multipart upload in progress for ${objectKey} (${describe(error)})`);
  }
  const status = httpStatusOf(error);
  if (CLIENT_PART_ERRORS.has(name) || (status === 400 && name !== 'RequestTimeout')) {
    return new ChatError('INVALID_FIELD', `object storage refused ${operation} of ${objectKey}: ${describe(error)}`);
  }
  return storageUnavailable(operation, objectKey, error);
}

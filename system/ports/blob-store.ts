/** Object storage for media. Content is opaque (client-encrypted); the server only signs URLs. */
export interface BlobInfo {
  sizeBytes: number;
  contentType: string;
}

/** What an upload URL binds. */
export interface UploadTerms extends BlobInfo {
  /**
   * SHA-256 of the exact bytes, base64 (the form of S3's `x-amz-checksum-sha256`). With it the URL
   * is content-bound and write-once: the store takes only bytes with this checksum, and only while
   * nothing is stored under the key, so an object never changes once it exists. The uploader sends
   * `uploadHeaders(terms)`. Without it (tools and benchmarks only; the media service always gives
   * one) the URL binds size and type, and a second PUT replaces the object.
   */
  sha256?: string;
}

/** What `stat` reports of a stored object. */
export interface StoredBlobInfo extends BlobInfo {
  /** The checksum the store verified when the object was uploaded through a content-bound URL. */
  sha256?: string;
}

export interface BlobStore {
  /**
   * A URL that accepts a PUT of exactly `sizeBytes` with this content type, until `expiresAtMs`;
   * with `sha256`, of exactly those bytes and only if nothing is stored under the key yet.
   */
  signUpload(objectKey: string, terms: UploadTerms, expiresAtMs: number): Promise<string>;
  /** A URL that serves the object with GET until `expiresAtMs`. */
  signDownload(objectKey: string, expiresAtMs: number): Promise<string>;
  /** The stored object's size and type, or undefined when nothing was uploaded under the key. */
  stat(objectKey: string): Promise<StoredBlobInfo | undefined>;
}

/** The header that carries the declared checksum on a content-bound upload (S3's name). */
export const CHECKSUM_SHA256_HEADER = 'x-amz-checksum-sha256';

/**
 * The headers an upload through a URL signed for `terms` must carry, in every world: the content
 * type, and for a content-bound URL the declared checksum and `If-None-Match: *` (write-once).
 * Both stores refuse a PUT without them.
 */
export function uploadHeaders(terms: Pick<UploadTerms, 'contentType' | 'sha256'>): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': terms.contentType };
  if (terms.sha256 !== undefined) {
    headers[CHECKSUM_SHA256_HEADER] = terms.sha256;
    headers['if-none-match'] = '*';
  }
  return headers;
}

/** Object storage for media. Content is opaque (client-encrypted); the server only signs URLs. */
export interface BlobInfo {
  sizeBytes: number;
  contentType: string;
}

export interface BlobStore {
  /** A URL that accepts one PUT of exactly `sizeBytes` with this content type, until `expiresAtMs`. */
  signUpload(objectKey: string, info: BlobInfo, expiresAtMs: number): Promise<string>;
  /** A URL that serves the object with GET until `expiresAtMs`. */
  signDownload(objectKey: string, expiresAtMs: number): Promise<string>;
  /** The stored object's size and type, or undefined when nothing was uploaded under the key. */
  stat(objectKey: string): Promise<BlobInfo | undefined>;
}

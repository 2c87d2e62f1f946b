import { ChatError } from '../core/errors.js';
import type { MediaRef } from '../core/events.js';
import type { ConversationId } from '../core/ids.js';
import type { Caller } from './caller.js';
import type { CoreDeps } from './deps.js';
import type { Membership } from './membership.js';

export interface SignedUrl {
  objectKey: string;
  url: string;
  method: 'PUT' | 'GET';
  expiresAtMs: number;
}

/**
 * Media goes straight between clients and object storage through short-lived signed URLs; the
 * server only decides who may upload into or download from a conversation. Object keys start
 * with the conversation id, so a key proves which conversation its media belongs to.
 *
 * Every upload URL is content-bound and write-once (the uploader declares the SHA-256 of its
 * bytes): the store takes only those bytes, and only while the fresh key is empty, so the object a
 * message points at is the one its sender uploaded and never changes afterwards.
 */
export class MediaService {
  constructor(
    private readonly deps: Pick<CoreDeps, 'clock' | 'random' | 'limits' | 'blobs'>,
    private readonly membership: Membership,
  ) {}

  async requestUpload(
    caller: Caller,
    conversationId: ConversationId,
    sizeBytes: number,
    contentType: string,
    sha256: string,
  ): Promise<SignedUrl> {
    if (sizeBytes > this.deps.limits.mediaBytesMax) {
      throw new ChatError('MEDIA_TOO_LARGE', `media is ${sizeBytes} bytes; mediaBytesMax is ${this.deps.limits.mediaBytesMax}`);
    }
    if (!this.deps.limits.mediaContentTypes.includes(contentType)) {
      throw new ChatError('MEDIA_TYPE_NOT_ALLOWED', `content type ${contentType} is not allowed`);
    }
    await this.membership.requireMember(conversationId, caller.userId);
    const objectKey = `${keyPrefix(conversationId)}${this.deps.random.hex(16)}`;
    const expiresAtMs = this.deps.clock.nowMs() + this.deps.limits.mediaUrlTtlMs;
    const url = await this.guard(() => this.deps.blobs.signUpload(objectKey, { sizeBytes, contentType, sha256 }, expiresAtMs));
    return { objectKey, url, method: 'PUT', expiresAtMs };
  }

  async requestDownload(caller: Caller, conversationId: ConversationId, objectKey: string): Promise<SignedUrl> {
    await this.membership.readableSpans(conversationId, caller.userId);
    await this.requireStored(conversationId, objectKey);
    const expiresAtMs = this.deps.clock.nowMs() + this.deps.limits.mediaUrlTtlMs;
    const url = await this.guard(() => this.deps.blobs.signDownload(objectKey, expiresAtMs));
    return { objectKey, url, method: 'GET', expiresAtMs };
  }

  /** A message may only point at media that was uploaded into its own conversation. */
  async requireAttachment(conversationId: ConversationId, media: MediaRef): Promise<void> {
    const stored = await this.requireStored(conversationId, media.objectKey);
    if (stored.sizeBytes !== media.sizeBytes) {
      throw new ChatError('MEDIA_NOT_FOUND', `media ${media.objectKey} is ${stored.sizeBytes} bytes, not ${media.sizeBytes}`);
    }
  }

  private async requireStored(conversationId: ConversationId, objectKey: string) {
    if (!objectKey.startsWith(keyPrefix(conversationId))) {
      throw new ChatError('MEDIA_NOT_FOUND', `media ${objectKey} does not belong to ${conversationId}`);
    }
    const stored = await this.guard(() => this.deps.blobs.stat(objectKey));
    if (!stored) throw new ChatError('MEDIA_NOT_FOUND', `no media uploaded under ${objectKey}`);
    return stored;
  }

  /** Object storage being down is the client's retryable problem, not an internal error. */
  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof ChatError) throw error;
      throw new ChatError('STORAGE_UNAVAILABLE', `media storage is unavailable: ${(error as Error).message}`);
    }
  }
}

export function keyPrefix(conversationId: ConversationId): string {
  return `m/${conversationId}/`;
}

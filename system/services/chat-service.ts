import { ChatError } from '../core/errors.js';
import type { ChatMessageEvent, MediaRef } from '../core/events.js';
import type { ClientMessageId, ConversationId, Seq } from '../core/ids.js';
import type { KeyedSerializer } from '../core/keyed-serializer.js';
import type { Caller } from './caller.js';
import type { CoreDeps } from './deps.js';
import type { Fanout } from './fanout.js';
import type { MediaService } from './media-service.js';
import { membersAt, type Membership } from './membership.js';

export interface SendRequest {
  conversationId: ConversationId;
  clientMessageId: ClientMessageId;
  bodyBase64: string;
  media?: MediaRef;
}

export interface SendResult {
  conversationId: ConversationId;
  clientMessageId: ClientMessageId;
  seq: Seq;
  serverTimeMs: number;
  /** The message had been accepted before (a retry); nothing new was stored. */
  duplicate: boolean;
}

/** Accepts chat messages: checks, numbers, stores and fans them out (1:1 and groups alike). */
export class ChatService {
  constructor(
    private readonly deps: Pick<CoreDeps, 'clock' | 'limits' | 'messages' | 'conversations' | 'metrics'>,
    private readonly serializer: KeyedSerializer,
    private readonly membership: Membership,
    private readonly fanout: Fanout,
    private readonly media: MediaService,
  ) {}

  /**
   * Enters the conversation's serializer synchronously, so sends from one connection keep their
   * arrival order (the sender's order is part of the ordering guarantee).
   */
  send(caller: Caller, request: SendRequest): Promise<SendResult> {
    const bodyBytes = base64DecodedBytes(request.bodyBase64);
    if (bodyBytes > this.deps.limits.messageBytesMax) {
      return Promise.reject(
        new ChatError('MESSAGE_TOO_LARGE', `message body is ${bodyBytes} bytes; messageBytesMax is ${this.deps.limits.messageBytesMax}`),
      );
    }
    return this.serializer.run(request.conversationId, () => this.accept(caller, request));
  }

  private async accept(caller: Caller, request: SendRequest): Promise<SendResult> {
    const current = await this.membership.requireMember(request.conversationId, caller.userId);
    const { members, kind } = current;
    if (request.media) await this.media.requireAttachment(request.conversationId, request.media);
    const draft: Omit<ChatMessageEvent, 'seq'> = {
      kind: 'message',
      conversationId: request.conversationId,
      senderUserId: caller.userId,
      senderDeviceId: caller.deviceId,
      clientMessageId: request.clientMessageId,
      bodyBase64: request.bodyBase64,
      serverTimeMs: this.deps.clock.nowMs(),
    };
    if (request.media) draft.media = request.media;
    const { event, duplicate } = await this.deps.messages.append(draft);
    if (duplicate) {
      const stored = event as ChatMessageEvent;
      if (stored.bodyBase64 !== request.bodyBase64 || stored.media?.objectKey !== request.media?.objectKey) {
        throw new ChatError('IDEMPOTENCY_CONFLICT', `clientMessageId ${request.clientMessageId} was used for a different message`);
      }
    } else {
      this.deps.metrics.messageAccepted('message');
    }
    // A 1:1 conversation exists from its first message; record it for both users' lists.
    // Repeated on duplicates so a crash between the append and this write heals on retry.
    if (kind === 'direct' && (event.seq === 1 || duplicate)) {
      await Promise.all(members.map((userId) => this.deps.conversations.noteParticipant(userId, request.conversationId)));
    }
    // Re-fan-out a duplicate too: if the first attempt died between append and fan-out, the
    // retry completes it. Inbox writes are idempotent, devices that acked it are skipped, and
    // connections drop repeated seqs. Its recipients are those who were members at its seq: a user
    // added since must not receive a message from before they joined.
    const recipients = duplicate && current.kind === 'group' ? membersAt(current.group, event.seq) : members;
    await this.fanout.distribute(event, recipients, caller, { retry: duplicate });
    return {
      conversationId: event.conversationId,
      clientMessageId: request.clientMessageId,
      seq: event.seq,
      serverTimeMs: event.serverTimeMs,
      duplicate,
    };
  }
}

/** Decoded size of a base64 string without decoding it. */
export function base64DecodedBytes(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return Math.floor((base64.length * 3) / 4) - padding;
}

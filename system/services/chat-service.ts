import { ChatError } from '../core/errors.js';
import type { ChatMessageEvent, MediaRef } from '../core/events.js';
import { isDirectConversation, type ClientMessageId, type ConversationId, type Seq } from '../core/ids.js';
import type { KeyedSerializer } from '../core/keyed-serializer.js';
import type { Caller } from './caller.js';
import type { CoreDeps } from './deps.js';
import { SendAdmission, type AdmissionTicket } from './send-admission.js';
import type { Fanout } from './fanout.js';
import type { MediaService } from './media-service.js';
import { membersAt, type Membership } from './membership.js';
import type { MlsEpochGuard, MlsMarker } from './mls-epoch-guard.js';
import type { AppendResult } from '../ports/message-store.js';
import type { WalEntry } from '../ports/write-ahead-log.js';
import { isStoreOutage, type ReplayOutcome, type WriteAhead } from './write-ahead.js';
import type { OwnerRouting } from './owner-routing.js';
import { CheckedSendNotStored } from '../ports/conversation-owners.js';

export interface SendRequest {
  conversationId: ConversationId;
  clientMessageId: ClientMessageId;
  bodyBase64: string;
  media?: MediaRef;
  /** MLS metadata of the opaque body; a commit is admitted only in the conversation's current epoch. */
  mls?: MlsMarker;
}

export interface SendResult {
  conversationId: ConversationId;
  clientMessageId: ClientMessageId;
  seq: Seq;
  serverTimeMs: number;
  /** The message had been accepted before (a retry); nothing new was stored. */
  duplicate: boolean;
  queued?: false;
}

/**
 * The store could not take the message; it is durable in this gateway's write-ahead log and will
 * be numbered when the log is replayed (the sender then receives it back as an event with its seq).
 */
export interface QueuedResult {
  queued: true;
  conversationId: ConversationId;
  clientMessageId: ClientMessageId;
  /** When the gateway accepted it (also the message's server time once numbered). */
  serverTimeMs: number;
  /** An earlier attempt had been queued already; nothing new was logged. */
  duplicate: boolean;
}

export type SendOutcome = SendResult | QueuedResult;

interface AcceptOptions {
  /** Replaying a logged send: never log it again, keep its accept time, echo it to the sender. */
  replayOf?: WalEntry;
  /**
   * Sent by another node, which logs it itself if this one cannot store it: a send is only ever
   * logged on the node its client is connected to, so that node's log keeps the client's sends in
   * order (FIFO) however ownership moves while they wait.
   */
  forwarded?: boolean;
}

/** Accepts chat messages: checks, numbers, stores and fans them out (1:1 and groups alike). */
export class ChatService {
  /** Refuses sends with OVERLOADED while this gateway is past its capacity. */
  readonly admission: SendAdmission;

  constructor(
    private readonly deps: Pick<CoreDeps, 'clock' | 'limits' | 'random' | 'messages' | 'conversations' | 'metrics'>,
    private readonly serializer: KeyedSerializer,
    private readonly membership: Membership,
    private readonly fanout: Fanout,
    private readonly media: MediaService,
    private readonly routing: OwnerRouting,
    private readonly epochGuard?: MlsEpochGuard,
    private readonly writeAhead?: WriteAhead,
  ) {
    this.admission = new SendAdmission(deps);
  }

  /**
   * Enters the conversation's serializer synchronously, so sends from one connection keep their
   * arrival order (the sender's order is part of the ordering guarantee).
   */
  send(caller: Caller, request: SendRequest, receivedAtMs?: number): Promise<SendOutcome> {
    const bodyBytes = base64DecodedBytes(request.bodyBase64);
    const handshake = request.mls !== undefined && request.mls.kind !== 'application';
    const [limitName, bodyBytesMax] = handshake
      ? ['mlsHandshakeBytesMax', this.deps.limits.mlsHandshakeBytesMax]
      : ['messageBytesMax', this.deps.limits.messageBytesMax];
    if (bodyBytes > bodyBytesMax) {
      return Promise.reject(new ChatError('MESSAGE_TOO_LARGE', `message body is ${bodyBytes} bytes; ${limitName} is ${bodyBytesMax}`));
    }
    let ticket: AdmissionTicket;
    try {
      ticket = this.admission.admit(receivedAtMs);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    // This node's serializer also orders what it forwards, so one connection's sends reach the
    // owner in the order they arrived.
    return this.serializer
      .run(request.conversationId, () => this.queueOrRoute(caller, request))
      .finally(() => this.admission.finished(ticket));
  }

  /** A send forwarded by another node, which found this node to be the conversation's owner. */
  acceptForwarded(caller: Caller, request: SendRequest): Promise<SendOutcome> {
    return this.serializer.run(request.conversationId, () => {
      this.routing.requireLocal(request.conversationId);
      return this.accept(caller, request, { forwarded: true });
    });
  }

  /** Replays a logged send (the write-ahead replayer calls this) through the owner; throws STORAGE_UNAVAILABLE while the store is down. */
  replay(entry: WalEntry): Promise<ReplayOutcome> {
    return this.routing.run(entry.conversationId, {
      here: () => this.replayHere(entry),
      call: { kind: 'replay', entry: { ...entry } },
    });
  }

  /** A replay as the owner runs it (here, or forwarded by the node whose log holds the entry). */
  replayHere(entry: WalEntry): Promise<ReplayOutcome> {
    const caller: Caller = { userId: entry.senderUserId, deviceId: entry.senderDeviceId };
    const request: SendRequest = {
      conversationId: entry.conversationId,
      clientMessageId: entry.clientMessageId,
      bodyBase64: entry.bodyBase64,
    };
    if (entry.media) request.media = entry.media;
    if (entry.mls) request.mls = entry.mls as MlsMarker;
    return this.serializer.run(entry.conversationId, async () => {
      this.routing.requireLocal(entry.conversationId);
      const result = await this.accept(caller, request, { replayOf: entry });
      return result.duplicate ? 'duplicate' : 'stored';
    });
  }

  /**
   * On the node the client is connected to: a retry of a send waiting in this node's write-ahead
   * log is answered from there, and while the conversation has sends waiting there, this one
   * queues behind them (FIFO). Otherwise the send runs on the conversation's owner (this node or
   * another); when no owner answers, it is logged here (durable, replayed through the owner).
   */
  private async queueOrRoute(caller: Caller, request: SendRequest): Promise<SendOutcome> {
    const queued = await this.queuedBehindLog(caller, request);
    if (queued) return queued;
    const writeAhead = this.writeAhead;
    // A 1:1 send is checked here too when another node owns it (in memory once the other user is
    // known): this node can then still log it while the directory's store is down.
    if (writeAhead && isDirectConversation(request.conversationId) && !this.routing.isLocal(request.conversationId)) {
      await this.membership.requireMember(request.conversationId, caller.userId);
    }
    return this.routing.run<SendOutcome>(request.conversationId, {
      here: () => this.accept(caller, request, {}),
      call: { kind: 'send', caller: { userId: caller.userId, deviceId: caller.deviceId }, request: { ...request } },
      ...(writeAhead && {
        // Checked by the owner already: log it without the checks, which may need the store that is down.
        unreachable: (error?: unknown) =>
          error instanceof CheckedSendNotStored
            ? this.queue(writeAhead, caller, request, this.deps.clock.nowMs())
            : this.checkAndQueue(writeAhead, caller, request),
      }),
    });
  }

  /** The answer from this node's write-ahead log, when the send is in it or must queue behind it. */
  private async queuedBehindLog(caller: Caller, request: SendRequest): Promise<QueuedResult | undefined> {
    const writeAhead = this.writeAhead;
    if (!writeAhead) return undefined;
    const waiting = writeAhead.findPending({
      conversationId: request.conversationId,
      senderUserId: caller.userId,
      senderDeviceId: caller.deviceId,
      clientMessageId: request.clientMessageId,
    });
    if (waiting) {
      if (waiting.bodyBase64 !== request.bodyBase64 || waiting.media?.objectKey !== request.media?.objectKey) {
        throw new ChatError('IDEMPOTENCY_CONFLICT', `clientMessageId ${request.clientMessageId} was used for a different message`);
      }
      return {
        queued: true,
        conversationId: waiting.conversationId,
        clientMessageId: waiting.clientMessageId,
        serverTimeMs: waiting.acceptedAtMs,
        duplicate: true,
      };
    }
    // Earlier sends to this conversation wait in the log: this one queues behind them (FIFO).
    if (writeAhead.hasPending(request.conversationId)) return this.checkAndQueue(writeAhead, caller, request);
    return undefined;
  }

  private async checkAndQueue(writeAhead: WriteAhead, caller: Caller, request: SendRequest): Promise<QueuedResult> {
    await this.membership.requireMember(request.conversationId, caller.userId);
    if (request.media) await this.media.requireAttachment(request.conversationId, request.media);
    return this.queue(writeAhead, caller, request, this.deps.clock.nowMs());
  }

  private async queue(writeAhead: WriteAhead, caller: Caller, request: SendRequest, acceptedAtMs: number): Promise<QueuedResult> {
    const entry = await writeAhead.append({
      conversationId: request.conversationId,
      senderUserId: caller.userId,
      senderDeviceId: caller.deviceId,
      clientMessageId: request.clientMessageId,
      bodyBase64: request.bodyBase64,
      ...(request.media && { media: request.media }),
      ...(request.mls && { mls: request.mls }),
      acceptedAtMs,
    });
    return {
      queued: true,
      conversationId: entry.conversationId,
      clientMessageId: entry.clientMessageId,
      serverTimeMs: acceptedAtMs,
      duplicate: false,
    };
  }

  private async accept(caller: Caller, request: SendRequest, options: AcceptOptions): Promise<SendOutcome> {
    const current = await this.membership.requireMember(request.conversationId, caller.userId);
    const { members, kind } = current;
    if (request.media) await this.media.requireAttachment(request.conversationId, request.media);
    if (request.mls && this.epochGuard) await this.epochGuard.admit(caller, request.conversationId, request.clientMessageId, request.mls);
    const draft: Omit<ChatMessageEvent, 'seq'> = {
      kind: 'message',
      conversationId: request.conversationId,
      senderUserId: caller.userId,
      senderDeviceId: caller.deviceId,
      clientMessageId: request.clientMessageId,
      bodyBase64: request.bodyBase64,
      serverTimeMs: options.replayOf?.acceptedAtMs ?? this.deps.clock.nowMs(),
    };
    if (request.media) draft.media = request.media;
    let appended: AppendResult;
    try {
      appended = await this.deps.messages.append(draft);
    } catch (error) {
      // The store is down or slow: the write-ahead log takes the message (docs/write-ahead-log.md).
      if (this.writeAhead && !options.replayOf && !options.forwarded && isStoreOutage(error))
        return this.queue(this.writeAhead, caller, request, draft.serverTimeMs);
      if (options.forwarded && isStoreOutage(error))
        throw new CheckedSendNotStored(`the owner checked the send but cannot store it: ${(error as Error).message}`);
      throw error;
    }
    const { event, duplicate } = appended;
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
    // A replayed message goes back to its sending device too: that is how it learns the seq.
    await this.fanout.distribute(event, recipients, options.replayOf ? undefined : caller, { retry: duplicate });
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

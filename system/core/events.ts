import type { ClientMessageId, ConversationId, DeviceId, Seq, UserId } from './ids.js';

/**
 * A conversation is an ordered log of events, each with a server-assigned sequence number.
 * Chat messages and membership changes share the one order, so every device sees a member
 * join or leave at the same point relative to the messages around it.
 */
export type ConversationEvent = ChatMessageEvent | MembershipEvent;

export interface MediaRef {
  objectKey: string;
  contentType: string;
  sizeBytes: number;
}

export interface ChatMessageEvent {
  kind: 'message';
  conversationId: ConversationId;
  seq: Seq;
  senderUserId: UserId;
  senderDeviceId: DeviceId;
  clientMessageId: ClientMessageId;
  /** Opaque bytes (client ciphertext), base64 on the wire and in stores. */
  bodyBase64: string;
  media?: MediaRef;
  /** Server clock when the message was accepted. */
  serverTimeMs: number;
}

export type MembershipOp = 'created' | 'added' | 'removed' | 'left' | 'admin_granted' | 'admin_revoked';

export interface MembershipEvent {
  kind: 'membership';
  conversationId: ConversationId;
  seq: Seq;
  op: MembershipOp;
  actorUserId: UserId;
  /** Users the change applies to (for `created`: every initial member, the creator included). */
  userIds: UserId[];
  /** Group name, carried on `created`. */
  name?: string;
  serverTimeMs: number;
}

/** What the store is asked to append; it fills in the sequence number. */
export type ConversationEventDraft = Omit<ChatMessageEvent, 'seq'> | Omit<MembershipEvent, 'seq'>;

export type ReceiptState = 'delivered' | 'read';

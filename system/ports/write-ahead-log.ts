import type { MediaRef } from '../core/events.js';
import type { ClientMessageId, ConversationId, DeviceId, UserId } from '../core/ids.js';

/**
 * A chat send the gateway accepted while the message store could not take it (an outage or a
 * timeout). The sender has been told it is queued; the replayer numbers and fans it out later.
 */
export interface WalEntry {
  /** Increasing in append order within one log; replay follows it per conversation. */
  id: number;
  conversationId: ConversationId;
  senderUserId: UserId;
  senderDeviceId: DeviceId;
  clientMessageId: ClientMessageId;
  bodyBase64: string;
  media?: MediaRef;
  /** The send's MLS marker (metadata of the opaque body), kept so a replayed commit is checked like a live one. */
  mls?: { kind: 'application' | 'commit' | 'proposal' | 'welcome'; epoch: number };
  /** The gateway's clock when it accepted the send. */
  acceptedAtMs: number;
}

export type WalEntryDraft = Omit<WalEntry, 'id'>;

/**
 * A node-local durable log of accepted sends. `append` resolves only once the entry is durable
 * (fsync for the file log): that is the moment the sender may be acknowledged. `complete` marks an
 * entry replayed; completed entries never come back from `pending`, also after a restart.
 */
export interface WriteAheadLog {
  append(draft: WalEntryDraft): Promise<WalEntry>;
  complete(id: number): Promise<void>;
  /** Entries not completed yet, in append order (after a restart: what the last run left). */
  pending(): readonly WalEntry[];
  close(): Promise<void>;
}

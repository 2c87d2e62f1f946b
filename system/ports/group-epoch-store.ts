import type { ClientMessageId, ConversationId, DeviceId, UserId } from '../core/ids.js';

/** Which message carried a commit: its sender device and client message id. */
export interface CommitRef {
  userId: UserId;
  deviceId: DeviceId;
  clientMessageId: ClientMessageId;
}

export type EpochAdvance =
  /** The conversation moved from `fromEpoch` to `fromEpoch + 1` with this commit. */
  | { outcome: 'advanced' }
  /** This very commit (a retry) had already moved it there. */
  | { outcome: 'repeat' }
  /** `fromEpoch` is not the current epoch: another commit won, or the sender is behind or ahead. */
  | { outcome: 'conflict'; currentEpoch: number };

/**
 * The one piece of MLS state the server keeps per conversation: its current epoch, and which
 * commit opened each epoch. It lets the server accept exactly one commit per epoch (the first to
 * arrive) and turn the others away, so every member applies the same commit. Content stays opaque.
 */
export interface GroupEpochStore {
  /** The conversation's current epoch: 0 until a commit was accepted. */
  current(conversationId: ConversationId): Promise<number>;
  /** Atomically: if the current epoch is `fromEpoch`, it becomes `fromEpoch + 1`, opened by `commit`. */
  advance(conversationId: ConversationId, fromEpoch: number, commit: CommitRef): Promise<EpochAdvance>;
}

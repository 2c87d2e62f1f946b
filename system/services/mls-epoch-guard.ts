import { ChatError } from '../core/errors.js';
import type { ClientMessageId, ConversationId } from '../core/ids.js';
import type { GroupEpochStore } from '../ports/group-epoch-store.js';
import type { Caller } from './caller.js';

/**
 * The optional MLS marker of a `send`: the only MLS metadata the server reads. `kind` says what
 * the opaque body carries; for a commit, `epoch` is the epoch the commit was made in.
 */
export interface MlsMarker {
  kind: 'application' | 'commit' | 'proposal' | 'welcome';
  epoch: number;
}

/**
 * Lets exactly one commit into each epoch of a conversation: the first to arrive. A commit made
 * in an older (or a future) epoch is refused with MLS_EPOCH_CONFLICT; its sender processes the
 * commits it is missing and makes its change again on the current epoch. Runs inside the
 * conversation's serializer, just before the commit is appended.
 */
export class MlsEpochGuard {
  constructor(private readonly epochs: GroupEpochStore) {}

  async admit(caller: Caller, conversationId: ConversationId, clientMessageId: ClientMessageId, marker: MlsMarker): Promise<void> {
    if (marker.kind !== 'commit') return;
    const commit = { userId: caller.userId, deviceId: caller.deviceId, clientMessageId };
    const result = await this.epochs.advance(conversationId, marker.epoch, commit);
    if (result.outcome !== 'conflict') return;
    throw new ChatError(
      'MLS_EPOCH_CONFLICT',
      `commit for epoch ${marker.epoch} refused: ${conversationId} is at epoch ${result.currentEpoch}; apply the commits before it and commit again`,
    );
  }
}

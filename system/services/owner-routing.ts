import { ChatError } from '../core/errors.js';
import type { ConversationId } from '../core/ids.js';
import { isNotOwner, NotOwnerError, type ConversationOwners, type OwnerCall } from '../ports/conversation-owners.js';
import type { CoreDeps } from './deps.js';
import { isStoreOutage } from './write-ahead.js';

export interface OwnedOperation<T> {
  /** The operation as the owner runs it (this node, when it owns the conversation). */
  here(): Promise<T>;
  /** The same operation as a request to another node. */
  call: OwnerCall;
  /**
   * Used when no owner can be reached: none within ownerWaitMs, or the owner's node did not answer
   * (STORAGE_UNAVAILABLE from the call). Default: fail with STORAGE_UNAVAILABLE.
   */
  unreachable?(error?: unknown): Promise<T>;
}

/**
 * Runs operations that append to a conversation on the node that owns it: here when this node
 * does, else as a request to the owner. While ownership moves (a node joined or left, a lease is
 * being taken over) it asks again every ownerRetryMs, for up to ownerWaitMs.
 *
 * Without a ConversationOwners (embedded and simulated worlds) every conversation is local.
 */
export class OwnerRouting {
  constructor(
    private readonly deps: Pick<CoreDeps, 'clock' | 'limits'>,
    private readonly owners: ConversationOwners | undefined,
  ) {}

  isLocal(conversationId: ConversationId): boolean {
    return !this.owners || this.owners.route(conversationId).local;
  }

  /** For requests forwarded by another node: refuse when this node is not the owner, so the sender asks the right one. */
  requireLocal(conversationId: ConversationId): void {
    if (!this.isLocal(conversationId)) throw new NotOwnerError(conversationId, 'forwarded to a node that does not own it');
  }

  async run<T>(conversationId: ConversationId, operation: OwnedOperation<T>): Promise<T> {
    const owners = this.owners;
    if (!owners) return operation.here();
    const { clock, limits } = this.deps;
    const deadlineMs = clock.nowMs() + limits.ownerWaitMs;
    for (;;) {
      const route = owners.route(conversationId);
      try {
        if (route.local) return await operation.here();
        if (route.nodeId !== undefined) return (await owners.call(route.nodeId, operation.call)) as T;
      } catch (error) {
        if (!route.local && operation.unreachable && isStoreOutage(error)) return operation.unreachable(error);
        if (!isNotOwner(error)) throw error;
      }
      // Ownership is moving: read the leases again (joins a read already running).
      await owners.refresh();
      if (clock.nowMs() >= deadlineMs || (!route.local && route.unknown)) {
        if (operation.unreachable) return operation.unreachable();
        throw new ChatError('STORAGE_UNAVAILABLE', `no gateway owns ${conversationId} at the moment (ownership is moving); retry`);
      }
      await new Promise<void>((resolve) => clock.setTimer(limits.ownerRetryMs, resolve));
    }
  }
}

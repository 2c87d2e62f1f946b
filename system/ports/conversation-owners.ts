import { ChatError } from '../core/errors.js';
import type { ConversationId } from '../core/ids.js';

/**
 * A request the node that owns a conversation must carry out, because it numbers the
 * conversation's events: a send, a replay of a logged send, or a group change. Plain JSON: it
 * travels between gateway nodes.
 */
export type OwnerCall =
  | { kind: 'send'; caller: { userId: string; deviceId: string }; request: Record<string, unknown> }
  | { kind: 'replay'; entry: Record<string, unknown> }
  | {
      kind: 'group';
      method: 'create' | 'add' | 'remove' | 'leave' | 'setAdmin';
      caller: { userId: string; deviceId: string };
      args: unknown[];
    };

/** Where a conversation's appends run right now, as this node sees it. */
export type OwnerRoute =
  | { local: true }
  /**
   * Another node holds the conversation's slot; `nodeId` undefined while none does (a takeover).
   * `unknown`: the leases cannot be read at the moment (their store is down), so waiting for an
   * owner to appear is pointless.
   */
  | { local: false; nodeId: string | undefined; unknown?: boolean };

/**
 * Which gateway node numbers each conversation, and how to reach it (docs/architecture.md,
 * "One owner per conversation"). Worlds with one writer (embedded, simulated) have none: every
 * conversation is local.
 */
export interface ConversationOwners {
  route(conversationId: ConversationId): OwnerRoute;
  /** Runs `call` on `nodeId`; rejects with STORAGE_UNAVAILABLE when the node does not answer in time, NotOwnerError when it no longer owns the conversation. */
  call(nodeId: string, call: OwnerCall): Promise<unknown>;
  /** Asks for a fresher view of the owners (after a NotOwnerError); resolves when it is read. */
  refresh(): Promise<void>;
}

/**
 * The node asked to append does not (or no longer) own the conversation. Internal: the node that
 * received the client's request retries on the current owner; clients never see it.
 */
export class NotOwnerError extends Error {
  constructor(
    readonly conversationId: ConversationId,
    detail: string,
  ) {
    super(`not the owner of ${conversationId}: ${detail}`);
    this.name = 'NotOwnerError';
  }
}

export function isNotOwner(error: unknown): error is NotOwnerError {
  return error instanceof NotOwnerError;
}

/**
 * The owner accepted a forwarded send (membership, media and epoch checks passed) but could not
 * store it. The node the client is connected to logs it without checking again: those checks may
 * need the store that is down.
 */
export class CheckedSendNotStored extends ChatError {
  constructor(message: string) {
    super('STORAGE_UNAVAILABLE', message);
  }
}

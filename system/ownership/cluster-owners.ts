import type { ConversationId } from '../core/ids.js';
import type { ConversationOwners, OwnerCall, OwnerRoute } from '../ports/conversation-owners.js';
import type { LeaseKeeper } from './lease-keeper.js';

/** How a node reaches another node's core (Redis pub/sub in production). */
export interface NodeCalls {
  call(nodeId: string, call: OwnerCall): Promise<unknown>;
}

/** ConversationOwners of a production cluster: leases say who owns what, node calls reach them. */
export class ClusterOwners implements ConversationOwners {
  constructor(
    private readonly keeper: LeaseKeeper,
    private readonly calls: NodeCalls,
  ) {}

  route(conversationId: ConversationId): OwnerRoute {
    return this.keeper.route(conversationId);
  }

  call(nodeId: string, call: OwnerCall): Promise<unknown> {
    return this.calls.call(nodeId, call);
  }

  refresh(): Promise<void> {
    return this.keeper.refresh();
  }
}

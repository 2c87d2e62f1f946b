import { ChatError } from '../core/errors.js';
import type { MembershipEvent, MembershipOp } from '../core/events.js';
import { groupConversationId, type ConversationId, type Seq, type UserId } from '../core/ids.js';
import type { KeyedSerializer } from '../core/keyed-serializer.js';
import type { GroupRecord } from '../ports/conversation-store.js';
import type { Caller } from './caller.js';
import type { CoreDeps } from './deps.js';
import type { Fanout } from './fanout.js';
import { currentSpans, type Membership } from './membership.js';
import type { OwnerRouting } from './owner-routing.js';

export type GroupMethod = 'create' | 'add' | 'remove' | 'leave' | 'setAdmin';

export interface GroupChange {
  conversationId: ConversationId;
  seq: Seq;
}

/**
 * Groups: create, add, remove, leave, admins. Each change is an event in the conversation's own
 * log, numbered in the same sequence as its messages, and fanned out like a message: every member
 * sees a change at the same point relative to the messages around it.
 */
export class GroupService {
  constructor(
    private readonly deps: Pick<CoreDeps, 'clock' | 'random' | 'limits' | 'messages' | 'conversations' | 'directory' | 'metrics'>,
    private readonly serializer: KeyedSerializer,
    private readonly membership: Membership,
    private readonly fanout: Fanout,
    private readonly routing: OwnerRouting,
  ) {}

  // Each change appends to the group's log, so it runs on the group's owner (OwnerRouting).

  create(caller: Caller, name: string, memberIds: readonly UserId[]): Promise<GroupChange> {
    const conversationId = groupConversationId(this.deps.random.hex(16));
    return this.onOwner(conversationId, caller, 'create', [name, memberIds, conversationId]);
  }

  add(caller: Caller, conversationId: ConversationId, userIds: readonly UserId[]): Promise<GroupChange> {
    return this.onOwner(conversationId, caller, 'add', [conversationId, userIds]);
  }

  remove(caller: Caller, conversationId: ConversationId, userId: UserId): Promise<GroupChange> {
    return this.onOwner(conversationId, caller, 'remove', [conversationId, userId]);
  }

  leave(caller: Caller, conversationId: ConversationId): Promise<GroupChange> {
    return this.onOwner(conversationId, caller, 'leave', [conversationId]);
  }

  setAdmin(caller: Caller, conversationId: ConversationId, userId: UserId, admin: boolean): Promise<GroupChange> {
    return this.onOwner(conversationId, caller, 'setAdmin', [conversationId, userId, admin]);
  }

  /** A change forwarded by another node, which found this node to own the group. */
  runForwarded(method: GroupMethod, caller: Caller, args: unknown[]): Promise<GroupChange> {
    const conversationId = String(method === 'create' ? args[2] : args[0]);
    this.routing.requireLocal(conversationId);
    return this.here(method, caller, args);
  }

  private onOwner(conversationId: ConversationId, caller: Caller, method: GroupMethod, args: unknown[]): Promise<GroupChange> {
    return this.routing.run(conversationId, {
      here: () => this.here(method, caller, args),
      call: { kind: 'group', method, caller: { userId: caller.userId, deviceId: caller.deviceId }, args },
    });
  }

  private here(method: GroupMethod, caller: Caller, args: unknown[]): Promise<GroupChange> {
    switch (method) {
      case 'create':
        return this.createHere(caller, args[0] as string, args[1] as UserId[], args[2] as ConversationId);
      case 'add':
        return this.addHere(caller, args[0] as ConversationId, args[1] as UserId[]);
      case 'remove':
        return this.removeHere(caller, args[0] as ConversationId, args[1] as UserId);
      case 'leave':
        return this.leaveHere(caller, args[0] as ConversationId);
      case 'setAdmin':
        return this.setAdminHere(caller, args[0] as ConversationId, args[1] as UserId, args[2] as boolean);
    }
  }

  private async createHere(
    caller: Caller,
    name: string,
    memberIds: readonly UserId[],
    conversationId: ConversationId,
  ): Promise<GroupChange> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > this.deps.limits.groupNameCharsMax) {
      throw new ChatError('INVALID_FIELD', `group name must be 1-${this.deps.limits.groupNameCharsMax} characters`);
    }
    const members = [...new Set([caller.userId, ...memberIds])];
    this.requireRoom(0, members.length);
    await this.requireUsersExist(members);
    return this.serializer.run(conversationId, async () => {
      const event = await this.appendChange(conversationId, 'created', caller.userId, members, trimmed);
      const record: GroupRecord = {
        conversationId,
        name: trimmed,
        createdBy: caller.userId,
        createdAtMs: event.serverTimeMs,
        spans: members.map((userId) => ({ userId, role: userId === caller.userId ? 'admin' : 'member', fromSeq: event.seq })),
      };
      await this.deps.conversations.createGroup(record);
      await this.fanout.distribute(event, members);
      return { conversationId, seq: event.seq };
    });
  }

  private addHere(caller: Caller, conversationId: ConversationId, userIds: readonly UserId[]): Promise<GroupChange> {
    return this.serializer.run(conversationId, async () => {
      const group = await this.requireAdmin(caller, conversationId);
      const current = currentSpans(group).map((s) => s.userId);
      const newcomers = [...new Set(userIds)];
      const already = newcomers.find((u) => current.includes(u));
      if (already) throw new ChatError('ALREADY_A_MEMBER', `${already} is already a member`);
      this.requireRoom(current.length, newcomers.length);
      await this.requireUsersExist(newcomers);
      const event = await this.appendChange(conversationId, 'added', caller.userId, newcomers);
      await this.deps.conversations.addMembers(conversationId, newcomers, event.seq);
      await this.fanout.distribute(event, [...current, ...newcomers]);
      return { conversationId, seq: event.seq };
    });
  }

  private removeHere(caller: Caller, conversationId: ConversationId, userId: UserId): Promise<GroupChange> {
    return this.serializer.run(conversationId, async () => {
      const group = await this.requireAdmin(caller, conversationId);
      return this.endMembership(group, caller.userId, userId, 'removed');
    });
  }

  private leaveHere(caller: Caller, conversationId: ConversationId): Promise<GroupChange> {
    return this.serializer.run(conversationId, async () => {
      const { group } = await this.requireGroupMember(caller, conversationId);
      return this.endMembership(group, caller.userId, caller.userId, 'left');
    });
  }

  private setAdminHere(caller: Caller, conversationId: ConversationId, userId: UserId, admin: boolean): Promise<GroupChange> {
    return this.serializer.run(conversationId, async () => {
      const group = await this.requireAdmin(caller, conversationId);
      const current = currentSpans(group);
      if (!current.some((s) => s.userId === userId)) throw new ChatError('NOT_A_MEMBER', `${userId} is not a member`);
      const event = await this.appendChange(conversationId, admin ? 'admin_granted' : 'admin_revoked', caller.userId, [userId]);
      await this.deps.conversations.setRole(conversationId, userId, admin ? 'admin' : 'member');
      await this.fanout.distribute(
        event,
        current.map((s) => s.userId),
      );
      return { conversationId, seq: event.seq };
    });
  }

  private async endMembership(group: GroupRecord, actor: UserId, target: UserId, op: 'removed' | 'left'): Promise<GroupChange> {
    const current = currentSpans(group).map((s) => s.userId);
    if (!current.includes(target)) throw new ChatError('NOT_A_MEMBER', `${target} is not a member`);
    const event = await this.appendChange(group.conversationId, op, actor, [target]);
    await this.deps.conversations.endMembership(group.conversationId, target, event.seq);
    // The departing member receives the event that ends their membership, then nothing after it.
    await this.fanout.distribute(event, current);
    return { conversationId: group.conversationId, seq: event.seq };
  }

  private async appendChange(
    conversationId: ConversationId,
    op: MembershipOp,
    actorUserId: UserId,
    userIds: UserId[],
    name?: string,
  ): Promise<MembershipEvent> {
    const draft: Omit<MembershipEvent, 'seq'> = {
      kind: 'membership',
      conversationId,
      op,
      actorUserId,
      userIds,
      serverTimeMs: this.deps.clock.nowMs(),
    };
    if (name !== undefined) draft.name = name;
    const { event } = await this.deps.messages.append(draft);
    this.deps.metrics.messageAccepted('membership');
    return event as MembershipEvent;
  }

  private async requireGroupMember(caller: Caller, conversationId: ConversationId) {
    const result = await this.membership.requireMember(conversationId, caller.userId);
    if (result.kind !== 'group') throw new ChatError('UNKNOWN_CONVERSATION', `${conversationId} is not a group`);
    return result;
  }

  private async requireAdmin(caller: Caller, conversationId: ConversationId): Promise<GroupRecord> {
    const { group } = await this.requireGroupMember(caller, conversationId);
    const span = currentSpans(group).find((s) => s.userId === caller.userId);
    if (span?.role !== 'admin') throw new ChatError('NOT_AN_ADMIN', `only admins of ${conversationId} may do this`);
    return group;
  }

  private requireRoom(currentCount: number, adding: number): void {
    const max = this.deps.limits.groupMembersMax;
    if (currentCount + adding > max) {
      throw new ChatError('GROUP_FULL', `a group holds at most ${max} members (has ${currentCount}, adding ${adding})`);
    }
  }

  private async requireUsersExist(userIds: readonly UserId[]): Promise<void> {
    const exists = await Promise.all(userIds.map((u) => this.deps.directory.userExists(u)));
    const missing = userIds.filter((_, i) => !exists[i]);
    if (missing.length > 0) throw new ChatError('UNKNOWN_USER', `no such user: ${missing.slice(0, 5).join(', ')}`);
  }
}

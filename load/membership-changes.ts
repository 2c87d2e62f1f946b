import { isChatClientError } from '../sdk/index.js';
import type { Random } from '../system/ports/random.js';
import type { DeviceFleet, VirtualDevice } from './device-fleet.js';
import type { PlannedGroup } from './plan.js';
import type { TrafficGenerator } from './traffic.js';

/** What the admins changed (the summary's `membership_changes`). */
export interface MembershipChangeTally {
  added: number;
  removed: number;
  /** Changes not made, by error code (or `admin_offline`, `no_group`). */
  failures: Record<string, number>;
}

export interface MembershipChangeOptions {
  /** How many changes over the traffic phase (`live.membership_changes`). */
  count: number;
  durationS: number;
  /** Groups this shard created whose membership may change: ordinary (not hot) and plaintext. */
  groups: readonly PlannedGroup[];
  /** Every user id of the plan, by plan index. */
  userIds: readonly string[];
  fleet: DeviceFleet;
  traffic: TrafficGenerator;
  random: Random;
}

/** Draws of a newcomer who is not yet a member, before giving up on a crowded group. */
const NEWCOMER_DRAWS_MAX = 20;

/**
 * Group admins changing membership while messages flow (`live.membership_changes`): that many
 * times, spread evenly over the traffic phase, the creator of one of this shard's ordinary
 * plaintext groups (in turn) adds a user who is not a member and removes a member other than
 * itself, so the membership invariant is judged on groups that change under traffic. The removed
 * user stops choosing the group before the removal is asked for; their sends still in flight may
 * be refused (NOT_A_MEMBER), as a real client's would. Hot groups keep their senders and MLS groups
 * would need commits, so neither changes here.
 */
export class MembershipChanges {
  readonly tally: MembershipChangeTally = { added: 0, removed: 0, failures: {} };
  private readonly members = new Map<number, Set<string>>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly o: MembershipChangeOptions) {
    for (const group of o.groups)
      this.members.set(group.index, new Set([group.creatorIndex, ...group.memberIndexes].map((i) => o.userIds[i]!)));
  }

  start(): void {
    for (let n = 0; n < this.o.count; n++) {
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          const change = this.changeOne(n);
          this.inFlight.add(change);
          void change.finally(() => this.inFlight.delete(change));
        },
        ((n + 0.5) / this.o.count) * this.o.durationS * 1000,
      );
      this.timers.add(timer);
    }
  }

  /** No more changes; waits for those under way. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private async changeOne(n: number): Promise<void> {
    const { traffic, userIds, random } = this.o;
    const created = this.o.groups.filter((g) => traffic.groupIds.has(g.index));
    if (created.length === 0) return this.fail('no_group');
    const group = created[n % created.length]!;
    const conversationId = traffic.groupIds.get(group.index)!;
    const members = this.members.get(group.index)!;
    const adminId = userIds[group.creatorIndex]!;
    const admin = this.onlineDeviceOf(adminId);
    if (!admin) return this.fail('admin_offline');

    let newcomer: string | undefined;
    for (let draw = 0; draw < NEWCOMER_DRAWS_MAX && newcomer === undefined; draw++) {
      const candidate = userIds[Math.floor(random.nextFloat() * userIds.length)]!;
      if (!members.has(candidate)) newcomer = candidate;
    }
    if (newcomer !== undefined) {
      try {
        await admin.client!.addMembers(conversationId, [newcomer]);
        members.add(newcomer);
        traffic.learnGroup(group.index, conversationId, [newcomer]);
        this.tally.added++;
      } catch (error) {
        this.fail(codeOf(error));
      }
    }

    const others = [...members].filter((u) => u !== adminId);
    if (others.length <= 1) return;
    const leaving = others[Math.floor(random.nextFloat() * others.length)]!;
    traffic.forgetMember(conversationId, leaving);
    const client = admin.client;
    if (!client) return this.fail('admin_offline');
    try {
      await client.removeMember(conversationId, leaving);
      members.delete(leaving);
      this.tally.removed++;
    } catch (error) {
      this.fail(codeOf(error));
    }
  }

  private onlineDeviceOf(userId: string): VirtualDevice | undefined {
    return this.o.fleet.devices.find((d) => d.user.userId === userId && d.client?.state === 'connected');
  }

  private fail(code: string): void {
    this.tally.failures[code] = (this.tally.failures[code] ?? 0) + 1;
  }
}

function codeOf(error: unknown): string {
  return isChatClientError(error) ? error.code : 'unknown';
}

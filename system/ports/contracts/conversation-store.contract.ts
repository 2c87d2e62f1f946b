import { describe, expect, it } from 'vitest';
import type { ConversationId, UserId } from '../../core/ids.js';
import type { ConversationStore, GroupRecord, MembershipSpan } from '../conversation-store.js';
import {
  BASE_TIME_MS,
  compareStrings,
  range,
  uniqueDirectId,
  uniqueGroupId,
  uniqueUserId,
  useSubject,
  type Disposable,
} from './support.js';

export interface ConversationStoreSubject extends Disposable {
  store: ConversationStore;
}

/** The ConversationStore contract: groups with membership spans, and each user's conversation list. */
export function conversationStoreContract(name: string, make: () => Promise<ConversationStoreSubject>): void {
  describe(name, () => {
    const subject = useSubject(make);
    const store = () => subject().store;

    /** A group created at seq 1 by its first member (admin), the others members. */
    async function createGroup(members: UserId[], groupName = 'team'): Promise<GroupRecord> {
      const record: GroupRecord = {
        conversationId: uniqueGroupId(),
        name: groupName,
        createdBy: members[0]!,
        createdAtMs: BASE_TIME_MS,
        spans: members.map((userId, i) => ({ userId, role: i === 0 ? 'admin' : 'member', fromSeq: 1 })),
      };
      await store().createGroup(record);
      return record;
    }

    /** Spans in a canonical order: the port does not promise one. */
    async function spansOf(conversationId: ConversationId): Promise<MembershipSpan[]> {
      const group = await store().getGroup(conversationId);
      expect(group).toBeDefined();
      return [...group!.spans].map((s) => ({ ...s })).sort((a, b) => compareStrings(a.userId, b.userId) || a.fromSeq - b.fromSeq);
    }

    async function conversationsOf(userId: UserId): Promise<ConversationId[]> {
      return [...(await store().listConversations(userId))].sort(compareStrings);
    }

    it('knows nothing of unknown groups and users', async () => {
      expect(await store().getGroup(uniqueGroupId())).toBeUndefined();
      expect(await store().listConversations(uniqueUserId())).toEqual([]);
    });

    it('a created group reads back exactly', async () => {
      const [alice, bob, carol] = [uniqueUserId('alice'), uniqueUserId('bob'), uniqueUserId('carol')];
      const record: GroupRecord = {
        conversationId: uniqueGroupId(),
        name: 'Ünïcödé 👋 team',
        createdBy: alice,
        createdAtMs: 1_712_345_678_901,
        spans: [
          { userId: alice, role: 'admin', fromSeq: 1 },
          { userId: bob, role: 'member', fromSeq: 1 },
          { userId: carol, role: 'member', fromSeq: 1 },
        ],
      };
      await store().createGroup(record);
      const stored = await store().getGroup(record.conversationId);
      expect(stored && { ...stored, spans: await spansOf(record.conversationId) }).toEqual({
        ...record,
        spans: [...record.spans].sort((a, b) => compareStrings(a.userId, b.userId)),
      });
    });

    it('a group of 256 members reads back with every span', async () => {
      const members = range(1, 256).map(() => uniqueUserId('m'));
      const record = await createGroup(members);
      const spans = await spansOf(record.conversationId);
      expect(spans).toHaveLength(256);
      expect(spans.map((s) => s.userId)).toEqual([...members].sort(compareStrings));
    });

    it('creating a group lists it for every initial member', async () => {
      const members = [uniqueUserId(), uniqueUserId(), uniqueUserId()];
      const record = await createGroup(members);
      for (const userId of members) expect(await conversationsOf(userId)).toEqual([record.conversationId]);
    });

    it('addMembers opens a member span at atSeq for each user and lists the group for them', async () => {
      const [alice, dave, erin] = [uniqueUserId('alice'), uniqueUserId('dave'), uniqueUserId('erin')];
      const record = await createGroup([alice]);
      await store().addMembers(record.conversationId, [dave, erin], 4);
      expect(await spansOf(record.conversationId)).toEqual(
        [
          { userId: alice, role: 'admin', fromSeq: 1 },
          { userId: dave, role: 'member', fromSeq: 4 },
          { userId: erin, role: 'member', fromSeq: 4 },
        ].sort((a, b) => compareStrings(a.userId, b.userId)),
      );
      expect(await conversationsOf(dave)).toEqual([record.conversationId]);
      expect(await conversationsOf(erin)).toEqual([record.conversationId]);
    });

    it('endMembership closes only that user’s open span', async () => {
      const [alice, bob] = [uniqueUserId('alice'), uniqueUserId('bob')];
      const record = await createGroup([alice, bob]);
      await store().endMembership(record.conversationId, bob, 7);
      const spans = await spansOf(record.conversationId);
      expect(spans.find((s) => s.userId === bob)).toEqual({ userId: bob, role: 'member', fromSeq: 1, toSeq: 7 });
      const aliceSpan = spans.find((s) => s.userId === alice);
      expect(aliceSpan).toEqual({ userId: alice, role: 'admin', fromSeq: 1 });
      expect(aliceSpan?.toSeq).toBeUndefined();
    });

    it('re-adding a user after they left opens a second span; the first stays closed', async () => {
      const [alice, bob] = [uniqueUserId('alice'), uniqueUserId('bob')];
      const record = await createGroup([alice, bob]);
      await store().endMembership(record.conversationId, bob, 3);
      await store().addMembers(record.conversationId, [bob], 5);
      const bobSpans = (await spansOf(record.conversationId)).filter((s) => s.userId === bob);
      expect(bobSpans).toEqual([
        { userId: bob, role: 'member', fromSeq: 1, toSeq: 3 },
        { userId: bob, role: 'member', fromSeq: 5 },
      ]);
      await store().endMembership(record.conversationId, bob, 9);
      expect((await spansOf(record.conversationId)).filter((s) => s.userId === bob)).toEqual([
        { userId: bob, role: 'member', fromSeq: 1, toSeq: 3 },
        { userId: bob, role: 'member', fromSeq: 5, toSeq: 9 },
      ]);
      expect(await conversationsOf(bob)).toEqual([record.conversationId]);
    });

    it('setRole changes only the open span', async () => {
      const [alice, bob] = [uniqueUserId('alice'), uniqueUserId('bob')];
      const record = await createGroup([alice, bob]);
      await store().setRole(record.conversationId, bob, 'admin');
      await store().endMembership(record.conversationId, bob, 4);
      await store().addMembers(record.conversationId, [bob], 6);
      await store().setRole(record.conversationId, alice, 'member');
      const spans = await spansOf(record.conversationId);
      expect(spans.filter((s) => s.userId === bob)).toEqual([
        { userId: bob, role: 'admin', fromSeq: 1, toSeq: 4 },
        { userId: bob, role: 'member', fromSeq: 6 },
      ]);
      expect(spans.find((s) => s.userId === alice)).toEqual({ userId: alice, role: 'member', fromSeq: 1 });
      await store().setRole(record.conversationId, bob, 'admin');
      expect((await spansOf(record.conversationId)).filter((s) => s.userId === bob)).toEqual([
        { userId: bob, role: 'admin', fromSeq: 1, toSeq: 4 },
        { userId: bob, role: 'admin', fromSeq: 6 },
      ]);
      await store().setRole(record.conversationId, bob, 'member');
      expect((await spansOf(record.conversationId)).filter((s) => s.userId === bob)).toEqual([
        { userId: bob, role: 'admin', fromSeq: 1, toSeq: 4 },
        { userId: bob, role: 'member', fromSeq: 6 },
      ]);
    });

    it('setRole of a user with no open span changes nothing', async () => {
      const [alice, bob] = [uniqueUserId('alice'), uniqueUserId('bob')];
      const record = await createGroup([alice, bob]);
      await store().endMembership(record.conversationId, bob, 2);
      await store().setRole(record.conversationId, bob, 'admin');
      expect((await spansOf(record.conversationId)).filter((s) => s.userId === bob)).toEqual([
        { userId: bob, role: 'member', fromSeq: 1, toSeq: 2 },
      ]);
    });

    it('groups are independent', async () => {
      const [alice, bob] = [uniqueUserId('alice'), uniqueUserId('bob')];
      const first = await createGroup([alice, bob]);
      const second = await createGroup([alice, bob]);
      await store().endMembership(first.conversationId, bob, 2);
      expect((await spansOf(second.conversationId)).find((s) => s.userId === bob)?.toSeq).toBeUndefined();
      expect(await conversationsOf(alice)).toEqual([first.conversationId, second.conversationId].sort(compareStrings));
    });

    it('noteParticipant is idempotent and listConversations lists each conversation once', async () => {
      const alice = uniqueUserId('alice');
      const direct = uniqueDirectId();
      const other = uniqueDirectId();
      await store().noteParticipant(alice, direct);
      await store().noteParticipant(alice, direct);
      await Promise.all([store().noteParticipant(alice, other), store().noteParticipant(alice, other)]);
      expect(await conversationsOf(alice)).toEqual([direct, other].sort(compareStrings));
      const group = await createGroup([alice]);
      await store().noteParticipant(alice, group.conversationId);
      expect(await conversationsOf(alice)).toEqual([direct, other, group.conversationId].sort(compareStrings));
    });

    it('a user keeps listing a group after leaving it (their past stretch stays readable)', async () => {
      const [alice, bob] = [uniqueUserId('alice'), uniqueUserId('bob')];
      const record = await createGroup([alice, bob]);
      await store().endMembership(record.conversationId, bob, 2);
      expect(await conversationsOf(bob)).toEqual([record.conversationId]);
    });

    it('users’ lists are independent, even for ids that share a prefix', async () => {
      const alice = uniqueUserId('alice');
      const aliceLonger = `${alice}0`;
      const direct = uniqueDirectId();
      await store().noteParticipant(aliceLonger, direct);
      expect(await conversationsOf(alice)).toEqual([]);
      expect(await conversationsOf(aliceLonger)).toEqual([direct]);
    });
  });
}

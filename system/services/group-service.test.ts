import { describe, expect, it } from 'vitest';
import type { ConversationEvent } from '../core/events.js';
import {
  connectDevice,
  createTestWorld,
  registerUser,
  settle,
  type InProcessClient,
  type TestWorld,
} from '../testing/in-process-client.js';

function describeEvent(e: ConversationEvent): string {
  return e.kind === 'message' ? `${e.seq}:msg:${e.clientMessageId}` : `${e.seq}:${e.op}:${e.userIds.join(',')}`;
}

async function createGroup(creator: InProcessClient, name: string, members: string[]): Promise<string> {
  const result = await creator.requestOk({ type: 'group_create', name, members }, 'group_result');
  return result.conversationId;
}

async function threeFriends(world: TestWorld) {
  const alice = await connectDevice(world, 'alice', 'phone');
  const bob = await connectDevice(world, 'bob', 'phone');
  const carol = await connectDevice(world, 'carol', 'phone');
  return { alice, bob, carol };
}

describe('GroupService through sessions', () => {
  it('creates a group: the creator is admin, every member gets the created event at seq 1', async () => {
    const world = createTestWorld();
    const { alice, bob, carol } = await threeFriends(world);
    const result = await alice.requestOk({ type: 'group_create', name: '  Friends  ', members: ['bob', 'bob', 'carol'] }, 'group_result');
    expect(result.seq).toBe(1);
    expect(result.conversationId).toMatch(/^grp:[a-f0-9]{32}$/);
    await settle();
    for (const client of [alice, bob, carol]) {
      expect(client.events(result.conversationId)).toEqual([
        expect.objectContaining({
          kind: 'membership',
          seq: 1,
          op: 'created',
          actorUserId: 'alice',
          userIds: ['alice', 'bob', 'carol'],
          name: 'Friends',
        }),
      ]);
    }
    const group = await world.stores.conversations.getGroup(result.conversationId);
    expect(group?.spans.map((s) => [s.userId, s.role])).toEqual([
      ['alice', 'admin'],
      ['bob', 'member'],
      ['carol', 'member'],
    ]);
    const list = await carol.requestOk({ type: 'conversations' }, 'conversations_result');
    expect(list.conversations).toEqual([{ conversationId: result.conversationId, kind: 'group', lastSeq: 1, name: 'Friends' }]);
  });

  it('refuses unknown members, empty names and too-long names', async () => {
    const world = createTestWorld({ limits: { groupNameCharsMax: 10 } });
    const { alice } = await threeFriends(world);
    expect((await alice.requestError({ type: 'group_create', name: 'x', members: ['bob', 'nobody'] })).code).toBe('UNKNOWN_USER');
    expect((await alice.requestError({ type: 'group_create', name: '   ', members: ['bob'] })).code).toBe('INVALID_FIELD');
    expect((await alice.requestError({ type: 'group_create', name: 'x'.repeat(11), members: ['bob'] })).code).toBe('INVALID_FIELD');
    expect(await world.stores.conversations.listConversations('alice')).toEqual([]);
  });

  it('only admins add; adding a member twice is ALREADY_A_MEMBER', async () => {
    const world = createTestWorld();
    const { alice, bob } = await threeFriends(world);
    await connectDevice(world, 'dave', 'phone');
    const group = await createGroup(alice, 'g', ['bob']);
    const notAdmin = await bob.requestError({ type: 'group_add', conversationId: group, userIds: ['carol'] });
    expect(notAdmin).toMatchObject({ code: 'NOT_AN_ADMIN', inReplyTo: 'group_add' });
    const already = await alice.requestError({ type: 'group_add', conversationId: group, userIds: ['carol', 'bob'] });
    expect(already.code).toBe('ALREADY_A_MEMBER');
    expect((await alice.requestError({ type: 'group_add', conversationId: group, userIds: ['ghost'] })).code).toBe('UNKNOWN_USER');
    expect(await world.stores.messages.lastSeq(group)).toBe(1);
    const added = await alice.requestOk({ type: 'group_add', conversationId: group, userIds: ['carol', 'dave'] }, 'group_result');
    expect(added.seq).toBe(2);
  });

  it('admin rights can be granted and revoked, by admins only', async () => {
    const world = createTestWorld();
    const { alice, bob, carol } = await threeFriends(world);
    await connectDevice(world, 'dave', 'phone');
    const group = await createGroup(alice, 'g', ['bob', 'carol']);
    expect((await bob.requestError({ type: 'group_admin', conversationId: group, userId: 'bob', admin: true })).code).toBe('NOT_AN_ADMIN');
    expect((await alice.requestError({ type: 'group_admin', conversationId: group, userId: 'dave', admin: true })).code).toBe(
      'NOT_A_MEMBER',
    );
    const granted = await alice.requestOk({ type: 'group_admin', conversationId: group, userId: 'bob', admin: true }, 'group_result');
    expect(granted.seq).toBe(2);
    await bob.requestOk({ type: 'group_add', conversationId: group, userIds: ['dave'] }, 'group_result');
    await alice.requestOk({ type: 'group_admin', conversationId: group, userId: 'bob', admin: false }, 'group_result');
    expect((await bob.requestError({ type: 'group_remove', conversationId: group, userId: 'carol' })).code).toBe('NOT_AN_ADMIN');
    await settle();
    expect(carol.events(group).map(describeEvent)).toEqual([
      '1:created:alice,bob,carol',
      '2:admin_granted:bob',
      '3:added:dave',
      '4:admin_revoked:bob',
    ]);
  });

  it('a group holds groupMembersMax (256) members: the 257th is GROUP_FULL', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    const others = Array.from({ length: 256 }, (_, i) => `user${i}`);
    for (const userId of others) await registerUser(world, userId);
    expect(world.core.deps.limits.groupMembersMax).toBe(256);

    // The creator counts: alice + 256 others is one too many.
    expect((await alice.requestError({ type: 'group_create', name: 'big', members: others })).code).toBe('GROUP_FULL');
    const group = await createGroup(alice, 'big', others.slice(0, 254));
    await alice.requestOk({ type: 'group_add', conversationId: group, userIds: [others[254]] }, 'group_result'); // 256th
    const full = await alice.requestError({ type: 'group_add', conversationId: group, userIds: [others[255]] });
    expect(full).toMatchObject({ code: 'GROUP_FULL', inReplyTo: 'group_add' });
    const stored = await world.stores.conversations.getGroup(group);
    expect(stored?.spans.filter((s) => s.toSeq === undefined)).toHaveLength(256);
    expect(await world.stores.messages.lastSeq(group)).toBe(2);
  });

  it('membership events share one seq order with messages; each member sees its own stretch', async () => {
    const world = createTestWorld();
    const { alice, bob, carol } = await threeFriends(world);
    const group = await createGroup(alice, 'g', ['bob']); // 1
    await alice.sendMessage(group, 'before-carol'); // 2
    await alice.requestOk({ type: 'group_add', conversationId: group, userIds: ['carol'] }, 'group_result'); // 3
    await bob.sendMessage(group, 'with-carol'); // 4
    await alice.requestOk({ type: 'group_remove', conversationId: group, userId: 'bob' }, 'group_result'); // 5
    await carol.sendMessage(group, 'after-bob'); // 6
    await settle();

    expect(alice.events(group).map(describeEvent)).toEqual([
      '1:created:alice,bob',
      '3:added:carol',
      '4:msg:with-carol',
      '5:removed:bob',
      '6:msg:after-bob',
    ]);
    expect(carol.events(group).map(describeEvent)).toEqual(['3:added:carol', '4:msg:with-carol', '5:removed:bob']);
    // The removed member gets the removal, then nothing after it.
    expect(bob.events(group).map(describeEvent)).toEqual(['1:created:alice,bob', '2:msg:before-carol', '3:added:carol', '5:removed:bob']);

    // Carol's history starts where her membership does.
    const history = await carol.requestOk({ type: 'history', conversationId: group }, 'history_result');
    expect(history.events.map((e) => e.seq)).toEqual([3, 4, 5, 6]);
    expect(history.hasMore).toBe(false);
    const sync = await carol.requestOk({ type: 'sync', conversationId: group, afterSeq: 0 }, 'sync_result');
    expect(sync.events.map((e) => e.seq)).toEqual([3, 4, 5, 6]);
  });

  it('a removed member cannot send, and cannot sync or page history past the removal', async () => {
    const world = createTestWorld();
    const { alice, bob } = await threeFriends(world);
    const group = await createGroup(alice, 'g', ['bob']); // 1
    await bob.sendMessage(group, 'hi'); // 2
    const removed = await alice.requestOk({ type: 'group_remove', conversationId: group, userId: 'bob' }, 'group_result');
    expect(removed.seq).toBe(3);
    for (let i = 0; i < 4; i++) await alice.sendMessage(group, `secret${i}`); // 4..7
    await settle();

    const mark = bob.mark();
    const refused = await bob.requestError({ type: 'send', conversationId: group, clientMessageId: 'again', body: '' });
    expect(refused.code).toBe('NOT_A_MEMBER');
    expect(await world.stores.messages.lastSeq(group)).toBe(7);

    const sync = await bob.requestOk({ type: 'sync', conversationId: group, afterSeq: 0 }, 'sync_result');
    expect(sync.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(sync.hasMore).toBe(false);
    const syncPast = await bob.requestOk({ type: 'sync', conversationId: group, afterSeq: 3 }, 'sync_result');
    expect(syncPast.events).toEqual([]);
    expect(syncPast.hasMore).toBe(false);
    const history = await bob.requestOk({ type: 'history', conversationId: group }, 'history_result');
    expect(history.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    const paged = await bob.requestOk({ type: 'history', conversationId: group, limit: 2 }, 'history_result');
    expect(paged.events.map((e) => e.seq)).toEqual([2, 3]);
    expect(paged.hasMore).toBe(true);
    // No event of the conversation reached bob after the removal (seq 2 was his own message).
    expect(bob.events(group).map((e) => e.seq)).toEqual([1, 3]);
    expect(bob.framesOf('event', mark)).toEqual([]);
    // Nor may he remove, add or leave.
    expect((await bob.requestError({ type: 'group_leave', conversationId: group })).code).toBe('NOT_A_MEMBER');
    expect(
      (
        await bob.requestError({
          type: 'media_upload',
          conversationId: group,
          sizeBytes: 10,
          contentType: 'image/png',
          sha256: '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
        })
      ).code,
    ).toBe('NOT_A_MEMBER');
  });

  it('a member who leaves gets the left event and nothing after; a re-added member reads only its stretches', async () => {
    const world = createTestWorld();
    const { alice, bob, carol } = await threeFriends(world);
    const group = await createGroup(alice, 'g', ['bob', 'carol']); // 1
    const left = await bob.requestOk({ type: 'group_leave', conversationId: group }, 'group_result'); // 2
    expect(left.seq).toBe(2);
    await carol.sendMessage(group, 'while-away'); // 3
    await alice.requestOk({ type: 'group_add', conversationId: group, userIds: ['bob'] }, 'group_result'); // 4
    await carol.sendMessage(group, 'welcome-back'); // 5
    await settle();
    expect(bob.events(group).map(describeEvent)).toEqual(['1:created:alice,bob,carol', '2:left:bob', '4:added:bob', '5:msg:welcome-back']);
    const sync = await bob.requestOk({ type: 'sync', conversationId: group, afterSeq: 0 }, 'sync_result');
    expect(sync.events.map((e) => e.seq)).toEqual([1, 2, 4, 5]);
    const history = await bob.requestOk({ type: 'history', conversationId: group }, 'history_result');
    expect(history.events.map((e) => e.seq)).toEqual([1, 2, 4, 5]);
    const sent = await bob.sendMessage(group, 'back');
    expect(sent.seq).toBe(6);
  });

  it('group requests on a group that does not exist are UNKNOWN_CONVERSATION', async () => {
    const world = createTestWorld();
    const { alice } = await threeFriends(world);
    const ghost = 'grp:0123456789abcdef';
    for (const frame of [
      { type: 'group_add', conversationId: ghost, userIds: ['bob'] },
      { type: 'group_remove', conversationId: ghost, userId: 'bob' },
      { type: 'group_leave', conversationId: ghost },
      { type: 'group_admin', conversationId: ghost, userId: 'bob', admin: true },
      { type: 'send', conversationId: ghost, clientMessageId: 'x', body: '' },
      { type: 'sync', conversationId: ghost, afterSeq: 0 },
    ]) {
      expect((await alice.requestError(frame)).code).toBe('UNKNOWN_CONVERSATION');
    }
    // A dm is not a group.
    expect((await alice.requestError({ type: 'group_leave', conversationId: 'dm:alice:bob' })).code).toBe('UNKNOWN_CONVERSATION');
  });
});

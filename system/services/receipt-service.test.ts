import { describe, expect, it } from 'vitest';
import { directConversationId } from '../core/ids.js';
import { connectDevice, createTestWorld, settle } from '../testing/in-process-client.js';

const DM = directConversationId('alice', 'bob');

async function setup() {
  const world = createTestWorld();
  const alicePhone = await connectDevice(world, 'alice', 'phone');
  const aliceLaptop = await connectDevice(world, 'alice', 'laptop');
  const bob = await connectDevice(world, 'bob', 'phone');
  for (let i = 1; i <= 3; i++) await alicePhone.sendMessage(DM, `m${i}`);
  await settle();
  return { world, alicePhone, aliceLaptop, bob };
}

describe('ReceiptService through sessions', () => {
  it('an ack raises "delivered", clears the inbox and tells every device of the sender', async () => {
    const { world, alicePhone, aliceLaptop, bob } = await setup();
    bob.ack(DM, 3);
    await settle();
    for (const device of [alicePhone, aliceLaptop]) {
      expect(device.framesOf('receipt')).toEqual([
        { type: 'receipt', conversationId: DM, state: 'delivered', upToSeq: 3, userId: 'bob', deviceId: 'phone' },
      ]);
    }
    expect(bob.framesOf('receipt')).toEqual([]);
    expect(await world.stores.inbox.depth({ userId: 'bob', deviceId: 'phone' })).toBe(0);
    const list = await alicePhone.requestOk({ type: 'receipts', conversationId: DM }, 'receipts_result');
    expect(list.devices).toEqual([{ userId: 'bob', deviceId: 'phone', deliveredSeq: 3, readSeq: 0 }]);
  });

  it('watermarks only rise: a lower ack or read after a higher one changes nothing', async () => {
    const { alicePhone, bob } = await setup();
    bob.read(DM, 3);
    await settle();
    const before = alicePhone.mark();
    bob.read(DM, 2);
    bob.ack(DM, 1);
    bob.read(DM, 3);
    await settle();
    expect(alicePhone.framesOf('receipt', before)).toEqual([]);
    const list = await bob.requestOk({ type: 'receipts', conversationId: DM }, 'receipts_result');
    expect(list.devices).toEqual([{ userId: 'bob', deviceId: 'phone', deliveredSeq: 3, readSeq: 3 }]);
  });

  it('read implies delivered', async () => {
    const { world, alicePhone, aliceLaptop, bob } = await setup();
    bob.read(DM, 2);
    await settle();
    for (const device of [alicePhone, aliceLaptop]) {
      expect(device.framesOf('receipt').map((r) => [r.state, r.upToSeq])).toEqual([
        ['delivered', 2],
        ['read', 2],
      ]);
    }
    expect(await world.stores.inbox.depth({ userId: 'bob', deviceId: 'phone' })).toBe(1);
    bob.ack(DM, 3);
    await settle();
    expect(alicePhone.framesOf('receipt').map((r) => [r.state, r.upToSeq])).toEqual([
      ['delivered', 2],
      ['read', 2],
      ['delivered', 3],
    ]);
  });

  it('watermarks are per recipient device', async () => {
    const { alicePhone, bob, world } = await setup();
    const bobTablet = await connectDevice(world, 'bob', 'tablet');
    bob.ack(DM, 3);
    bobTablet.read(DM, 1);
    await settle();
    const list = await alicePhone.requestOk({ type: 'receipts', conversationId: DM }, 'receipts_result');
    expect(list.devices).toEqual(
      expect.arrayContaining([
        { userId: 'bob', deviceId: 'phone', deliveredSeq: 3, readSeq: 0 },
        { userId: 'bob', deviceId: 'tablet', deliveredSeq: 1, readSeq: 1 },
      ]),
    );
  });

  it('in a group, a receipt goes only to the senders whose messages it covers', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    const bob = await connectDevice(world, 'bob', 'phone');
    const carol = await connectDevice(world, 'carol', 'phone');
    const { conversationId: group } = await alice.requestOk({ type: 'group_create', name: 'g', members: ['bob', 'carol'] }, 'group_result');
    await alice.sendMessage(group, 'a'); // 2
    await bob.sendMessage(group, 'b'); // 3
    await settle();
    carol.read(group, 2);
    await settle();
    expect(alice.framesOf('receipt').map((r) => [r.state, r.upToSeq])).toEqual([
      ['delivered', 2],
      ['read', 2],
    ]);
    expect(bob.framesOf('receipt')).toEqual([]);
    carol.read(group, 3);
    await settle();
    expect(bob.framesOf('receipt').map((r) => [r.state, r.upToSeq, r.userId])).toEqual([
      ['delivered', 3, 'carol'],
      ['read', 3, 'carol'],
    ]);
    expect(alice.framesOf('receipt')).toHaveLength(2);
    // Reading one's own message tells nobody.
    const before = [alice.mark(), bob.mark(), carol.mark()] as const;
    await carol.sendMessage(group, 'c'); // 4
    carol.read(group, 4);
    await settle();
    expect(alice.framesOf('receipt', before[0])).toEqual([]);
    expect(bob.framesOf('receipt', before[1])).toEqual([]);
    expect(carol.framesOf('receipt', before[2])).toEqual([]);
  });

  it('refuses receipts beyond the end of the conversation', async () => {
    const { alicePhone, bob } = await setup();
    bob.read(DM, 4);
    const error = await bob.waitFor((f) => f.type === 'error');
    expect(error).toMatchObject({ type: 'error', code: 'INVALID_FIELD', inReplyTo: 'read' });
    await settle();
    expect(alicePhone.framesOf('receipt')).toEqual([]);
  });

  it('a user outside the conversation can neither ack nor read in it', async () => {
    const { world, alicePhone, bob } = await setup();
    const mallory = await connectDevice(world, 'mallory', 'phone');
    mallory.ack(DM, 3);
    mallory.read(DM, 3);
    await settle();
    expect(mallory.errors().map((e) => [e.code, e.inReplyTo])).toEqual([
      ['NOT_A_MEMBER', 'ack'],
      ['NOT_A_MEMBER', 'read'],
    ]);
    expect(alicePhone.framesOf('receipt')).toEqual([]);
    const list = await bob.requestOk({ type: 'receipts', conversationId: DM }, 'receipts_result');
    expect(list.devices).toEqual([]);
    expect((await mallory.requestError({ type: 'receipts', conversationId: DM })).code).toBe('NOT_A_MEMBER');
  });

  it('a removed member may acknowledge up to its removal, not beyond', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    const bob = await connectDevice(world, 'bob', 'phone');
    const { conversationId: group } = await alice.requestOk({ type: 'group_create', name: 'g', members: ['bob'] }, 'group_result');
    await alice.sendMessage(group, 'm'); // 2
    await alice.requestOk({ type: 'group_remove', conversationId: group, userId: 'bob' }, 'group_result'); // 3
    await alice.sendMessage(group, 'after'); // 4
    await settle();
    bob.read(group, 3);
    await settle();
    expect(alice.framesOf('receipt').map((r) => [r.state, r.upToSeq])).toEqual([
      ['delivered', 3],
      ['read', 3],
    ]);
    bob.read(group, 4);
    await settle();
    expect(bob.errors().map((e) => e.code)).toEqual(['NOT_A_MEMBER']);
    expect(alice.framesOf('receipt')).toHaveLength(2);
  });

  it('an ack or read of what the connection itself delivered skips the membership and existence reads; any other still makes them', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    const bob = await connectDevice(world, 'bob', 'phone');
    const { conversationId: group } = await alice.requestOk({ type: 'group_create', name: 'g', members: ['bob'] }, 'group_result');
    await alice.sendMessage(group, 'm1'); // 2
    await alice.sendMessage(group, 'm2'); // 3
    await settle();
    expect(bob.framesOf('event').map((f) => f.event.seq)).toEqual([1, 2, 3]);
    const reads: string[] = [];
    const { messages, conversations } = world.core.deps;
    const lastSeq = messages.lastSeq.bind(messages);
    const getGroup = conversations.getGroup.bind(conversations);
    messages.lastSeq = (c) => (reads.push('lastSeq'), lastSeq(c));
    conversations.getGroup = (c) => (reads.push('getGroup'), getGroup(c));
    bob.ack(group, 3);
    bob.read(group, 2);
    await settle();
    expect(reads).toEqual([]);
    expect(alice.framesOf('receipt').map((r) => [r.state, r.upToSeq])).toEqual([
      ['delivered', 3],
      ['read', 2],
    ]);
    // A device that was sent nothing on this connection proves both, and is refused beyond the end.
    const bobLaptop = await connectDevice(world, 'bob', 'laptop');
    bobLaptop.ack(group, 4);
    await settle();
    expect(reads).toEqual(['getGroup', 'lastSeq']);
    expect(bobLaptop.errors().map((e) => [e.code, e.inReplyTo])).toEqual([['INVALID_FIELD', 'ack']]);
  });
});

import { describe, expect, it } from 'vitest';
import { directConversationId, type Seq } from '../core/ids.js';
import { MemoryConnectionRegistry } from '../adapters/memory/memory-connection-registry.js';
import { MemoryConversationStore } from '../adapters/memory/memory-conversation-store.js';
import { MemoryDirectoryStore } from '../adapters/memory/memory-directory-store.js';
import { MemoryInboxStore } from '../adapters/memory/memory-inbox-store.js';
import { MemoryMessageStore } from '../adapters/memory/memory-message-store.js';
import { MemoryReceiptStore } from '../adapters/memory/memory-receipt-store.js';
import { ManualClock } from '../adapters/virtual/manual-clock.js';
import { RecordingPushSender } from '../adapters/memory/recording-push-sender.js';
import { defaultLimits } from '../core/limits.js';
import { noopMetrics } from '../ports/metrics.js';
import type { Route } from '../ports/connection-registry.js';
import { chatDraft } from '../ports/contracts/support.js';
import type { ServerFrame } from '../protocol/frames.js';
import { connectDevice, createTestWorld, settle } from '../testing/in-process-client.js';
import { DeviceRoutes } from './device-routes.js';
import { Membership } from './membership.js';
import { PushNotifier } from './push-notifier.js';
import { ReceiptService, type KnownSenders } from './receipt-service.js';

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

/** Records `<store>.<method>` for every call made through `target`. */
function counted<T extends object>(store: string, target: T, calls: string[]): T {
  return new Proxy(target, {
    get: (object, property, receiver) => {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        calls.push(`${store}.${property}`);
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}

const BOB = { userId: 'bob', deviceId: 'phone' };
const ALICE_ROUTE: Route = { nodeId: 'n1', connectionId: 'c-alice' };

/** A ReceiptService on counting in-memory stores; alice's phone is connected, the DM holds 3 messages of alice's. */
async function countingService() {
  const calls: string[] = [];
  const frames: Array<{ route: Route; frame: ServerFrame }> = [];
  const registry = new MemoryConnectionRegistry(new ManualClock());
  await registry.put({ userId: 'alice', deviceId: 'phone' }, ALICE_ROUTE, 60_000);
  const messages = new MemoryMessageStore();
  for (let i = 0; i < 3; i++) await messages.append(chatDraft(DM));
  const inbox = new MemoryInboxStore();
  const receipts = new MemoryReceiptStore();
  const conversations = counted('conversations', new MemoryConversationStore(), calls);
  const directory = counted('directory', new MemoryDirectoryStore(), calls);
  const devices = new MemoryDirectoryStore();
  await devices.linkDevice({ userId: 'alice', deviceId: 'phone' }, 0, 5);
  const deps = {
    inbox: counted('inbox', inbox, calls),
    receipts: counted('receipts', receipts, calls),
    messages: counted('messages', messages, calls),
    // The senders' device lists, apart from the counted directory that membership checks read.
    directory: devices,
  };
  const router = { deliver: async (route: Route, frame: ServerFrame) => void frames.push({ route, frame }) };
  const clock = new ManualClock();
  const pushNotifier = new PushNotifier({
    clock,
    push: new RecordingPushSender(),
    directory: devices,
    metrics: noopMetrics,
    limits: defaultLimits,
  });
  const routes = new DeviceRoutes({ registry, router, directory: devices, clock, limits: defaultLimits }, pushNotifier);
  const service = new ReceiptService(deps, new Membership({ conversations, directory }), routes);
  const receiptsTo = () =>
    frames.map(({ route, frame }) => (frame.type === 'receipt' ? [route.connectionId, frame.state, frame.upToSeq] : [frame.type]));
  return { service, calls, receipts, inbox, receiptsTo, deps };
}

/** Senders known from the connection, settled below `afterSeq`. */
function known(senders: string[], afterSeq: Seq, earlierSettled = true): KnownSenders {
  return { senders: new Set(senders), afterSeq, earlierSettled };
}

/** Calls that read a store (the receipt store's `advance` reads before it writes). */
const READS = [
  'messages.readAfter',
  'messages.lastSeq',
  'receipts.advance',
  'receipts.list',
  'conversations.getGroup',
  'directory.userExists',
];

describe('ReceiptService with the senders known from the connection', () => {
  it('an ack of a pushed seq writes the watermark blind: no log read, no watermark read, and the sender gets the receipt', async () => {
    const { service, calls, receipts, receiptsTo } = await countingService();
    await service.delivered(BOB, DM, 3, true, { delivered: known(['alice'], 0) });
    expect(calls.filter((c) => READS.includes(c))).toEqual([]);
    expect(calls).toEqual(['receipts.raise', 'inbox.ackThrough']);
    expect(receiptsTo()).toEqual([['c-alice', 'delivered', 3]]);
    expect(await receipts.list(DM)).toEqual([{ ...BOB, deliveredSeq: 3, readSeq: 0 }]);
  });

  it('a second ack at or below the watermark this process wrote writes nothing and tells nobody', async () => {
    const { service, calls, receiptsTo } = await countingService();
    await service.delivered(BOB, DM, 3, true, { delivered: known(['alice'], 0) });
    calls.length = 0;
    await service.delivered(BOB, DM, 3, true, { delivered: known(['alice'], 0) });
    await service.delivered(BOB, DM, 2, true, { delivered: known(['alice'], 0) });
    await service.read(BOB, DM, 1, true, { delivered: known([], 3), read: known(['alice'], 0) });
    // Only the read watermark was new.
    expect(calls).toEqual(['receipts.raise']);
    expect(receiptsTo()).toEqual([
      ['c-alice', 'delivered', 3],
      ['c-alice', 'read', 1],
    ]);
  });

  it('a read raises both watermarks blind, clears the inbox between them, and reads nothing', async () => {
    const { service, calls, receipts, receiptsTo } = await countingService();
    await service.read(BOB, DM, 2, true, { delivered: known(['alice'], 0), read: known(['alice'], 0) });
    expect(calls).toEqual(['receipts.raise', 'inbox.ackThrough', 'receipts.raise']);
    expect(receiptsTo()).toEqual([
      ['c-alice', 'delivered', 2],
      ['c-alice', 'read', 2],
    ]);
    expect(await receipts.list(DM)).toEqual([{ ...BOB, deliveredSeq: 2, readSeq: 2 }]);
  });

  it('senders not settled below afterSeq: the log is read unless this process wrote the watermark that far', async () => {
    const { service, calls, receiptsTo } = await countingService();
    // A read on a new connection whose first push was seq 3: messages 1 and 2 may be unread.
    await service.read(BOB, DM, 3, true, { delivered: known([], 3), read: known([], 2, false) });
    expect(calls).toEqual(['receipts.raise', 'inbox.ackThrough', 'receipts.advance', 'messages.readAfter']);
    expect(receiptsTo()).toEqual([['c-alice', 'read', 3]]);
    // Now the process knows the read watermark is at 3: the next read is blind again.
    calls.length = 0;
    await service.read(BOB, DM, 4, true, { delivered: known([], 4), read: known(['alice'], 3, false) });
    expect(calls.filter((c) => READS.includes(c))).toEqual([]);
  });

  it('two raises of one watermark announce in the order they were raised, even if the first write is slower', async () => {
    const { service, deps, receipts, receiptsTo } = await countingService();
    const raise = receipts.raise.bind(receipts);
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    deps.receipts.raise = async (c, d, state, seq) => {
      if (seq === 2) await firstHeld;
      return raise(c, d, state, seq);
    };
    const first = service.delivered(BOB, DM, 2, true, { delivered: known(['alice'], 0) });
    const second = service.delivered(BOB, DM, 3, true, { delivered: known(['alice'], 0) });
    await settle();
    releaseFirst();
    await Promise.all([first, second]);
    expect(receiptsTo()).toEqual([
      ['c-alice', 'delivered', 2],
      ['c-alice', 'delivered', 3],
    ]);
  });

  it('an ack whose inbox clearing failed is not skipped as a repeat when retried', async () => {
    const { service, calls, deps, inbox } = await countingService();
    const ackThrough = inbox.ackThrough.bind(inbox);
    let failures = 1;
    deps.inbox.ackThrough = async (d, c, seq) => {
      if (failures-- > 0) throw new Error('inbox store timed out');
      return ackThrough(d, c, seq);
    };
    await expect(service.delivered(BOB, DM, 3, true, { delivered: known(['alice'], 0) })).rejects.toThrow('timed out');
    calls.length = 0;
    await service.delivered(BOB, DM, 3, true, { delivered: known(['alice'], 0) });
    expect(calls).toEqual(['receipts.raise', 'inbox.ackThrough']);
  });

  it('without known senders, the log and the watermark are read as before', async () => {
    const { service, calls, receiptsTo } = await countingService();
    await service.delivered(BOB, DM, 3, true);
    expect(calls).toEqual(['receipts.advance', 'messages.readAfter', 'inbox.ackThrough']);
    expect(receiptsTo()).toEqual([['c-alice', 'delivered', 3]]);
  });
});

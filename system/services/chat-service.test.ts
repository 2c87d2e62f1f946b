import { describe, expect, it } from 'vitest';
import { directConversationId } from '../core/ids.js';
import { b64, connectDevice, createTestWorld, registerUser, settle } from '../testing/in-process-client.js';

const DM = directConversationId('alice', 'bob');

describe('ChatService: 1:1 messages through sessions', () => {
  it('acks sends with seq 1, 2, 3 and delivers to every recipient device and the sender’s other devices only', async () => {
    const world = createTestWorld();
    const alice1 = await connectDevice(world, 'alice', 'phone');
    const alice2 = await connectDevice(world, 'alice', 'laptop');
    const bob1 = await connectDevice(world, 'bob', 'phone');
    const bob2 = await connectDevice(world, 'bob', 'tablet');

    const acks = [];
    for (const id of ['m1', 'm2', 'm3']) acks.push(await alice1.sendMessage(DM, id));
    expect(acks.map((a) => [a.seq, a.duplicate, a.clientMessageId])).toEqual([
      [1, false, 'm1'],
      [2, false, 'm2'],
      [3, false, 'm3'],
    ]);
    await settle();

    for (const device of [bob1, bob2, alice2]) {
      expect(device.seqs(DM)).toEqual([1, 2, 3]);
      const events = device.events(DM);
      expect(events.map((e) => (e.kind === 'message' ? e.clientMessageId : e.op))).toEqual(['m1', 'm2', 'm3']);
      for (const e of events) {
        expect(e).toMatchObject({ kind: 'message', senderUserId: 'alice', senderDeviceId: 'phone' });
      }
    }
    // The sending device has the acks; it gets no copy of its own messages.
    expect(alice1.events()).toEqual([]);
    expect(await world.stores.messages.lastSeq(DM)).toBe(3);
  });

  it('queues for the sender’s offline devices too', async () => {
    const world = createTestWorld();
    await registerUser(world, 'alice', 'laptop');
    const alice = await connectDevice(world, 'alice', 'phone');
    await connectDevice(world, 'bob', 'phone');
    await alice.sendMessage(DM, 'm1');
    expect(await world.stores.inbox.depth({ userId: 'alice', deviceId: 'laptop' })).toBe(1);
    expect(await world.stores.inbox.depth({ userId: 'alice', deviceId: 'phone' })).toBe(0);
    const laptop = await connectDevice(world, 'alice', 'laptop');
    expect(laptop.seqs(DM)).toEqual([1]);
  });

  it('a retry with the same clientMessageId returns the same seq, duplicate:true, and stores nothing new', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    const bob = await connectDevice(world, 'bob', 'phone');
    await registerUser(world, 'bob', 'laptop'); // offline: keeps its copy in the inbox
    const bobLaptop = { userId: 'bob', deviceId: 'laptop' };

    const first = await alice.sendMessage(DM, 'm1', 'hello');
    await settle();
    const depthBefore = await world.stores.inbox.depth(bobLaptop);
    const retry = await alice.sendMessage(DM, 'm1', 'hello');
    expect(retry).toMatchObject({ seq: first.seq, duplicate: true, clientMessageId: 'm1' });
    expect(retry.serverTimeMs).toBe(first.serverTimeMs);
    await settle();
    expect(await world.stores.messages.lastSeq(DM)).toBe(1);
    expect(await world.stores.inbox.depth(bobLaptop)).toBe(depthBefore);
    // The online recipient does not see it twice.
    expect(bob.seqs(DM)).toEqual([1]);

    // Once the recipient acknowledged it, a late retry must not queue it again.
    bob.ack(DM, 1);
    await settle();
    expect(await world.stores.inbox.depth({ userId: 'bob', deviceId: 'phone' })).toBe(0);
    const late = await alice.sendMessage(DM, 'm1', 'hello');
    expect(late).toMatchObject({ seq: 1, duplicate: true });
    expect(await world.stores.inbox.depth({ userId: 'bob', deviceId: 'phone' })).toBe(0);
    await bob.close();
    const bobAgain = await connectDevice(world, 'bob', 'phone');
    expect(bobAgain.events()).toEqual([]);
  });

  it('the same clientMessageId with a different body is IDEMPOTENCY_CONFLICT and stores nothing', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    const bob = await connectDevice(world, 'bob', 'phone');
    await alice.sendMessage(DM, 'm1', 'hello');
    const error = await alice.requestError({ type: 'send', conversationId: DM, clientMessageId: 'm1', body: b64('other') });
    expect(error).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', inReplyTo: 'send', retryable: false });
    expect(await world.stores.messages.lastSeq(DM)).toBe(1);
    await settle();
    expect(bob.events(DM).map((e) => (e.kind === 'message' ? e.bodyBase64 : ''))).toEqual([b64('hello')]);
    // The id is per sending device: another device of alice may use m1 for a new message.
    const alice2 = await connectDevice(world, 'alice', 'laptop');
    const other = await alice2.sendMessage(DM, 'm1', 'other');
    expect(other).toMatchObject({ seq: 2, duplicate: false });
  });

  it('stores the token’s user and device as the sender, whatever the frame says', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    const bob = await connectDevice(world, 'bob', 'phone');
    alice.send({
      type: 'send',
      rid: 'spoof',
      conversationId: DM,
      clientMessageId: 'm1',
      body: b64('x'),
      senderUserId: 'bob',
      senderDeviceId: 'phone',
      seq: 99,
      serverTimeMs: 0,
    });
    await alice.waitFor((f) => f.type === 'sent');
    const [stored] = await world.stores.messages.readAfter(DM, 0, 10);
    expect(stored).toMatchObject({ kind: 'message', seq: 1, senderUserId: 'alice', senderDeviceId: 'phone' });
    expect(stored?.serverTimeMs).toBe(world.clock.nowMs());
    await settle();
    expect(bob.events(DM)[0]).toMatchObject({ senderUserId: 'alice', senderDeviceId: 'phone', seq: 1 });
  });

  it('keeps one sender’s order when sends are pipelined without waiting for acks', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    const bob = await connectDevice(world, 'bob', 'phone');
    for (let i = 1; i <= 30; i++)
      alice.send({ type: 'send', rid: `r${i}`, conversationId: DM, clientMessageId: `m${i}`, body: b64(`${i}`) });
    await alice.waitFor((f) => f.type === 'sent' && f.rid === 'r30');
    await settle();
    const sent = alice.framesOf('sent');
    expect(sent.map((s) => s.clientMessageId)).toEqual(Array.from({ length: 30 }, (_, i) => `m${i + 1}`));
    expect(sent.map((s) => s.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(bob.events(DM).map((e) => (e.kind === 'message' ? e.clientMessageId : ''))).toEqual(sent.map((s) => s.clientMessageId));
  });

  it('an offline device gets its inbox drained in order on connect', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    const carol = await connectDevice(world, 'carol', 'phone');
    await registerUser(world, 'bob', 'phone');
    const carolDm = directConversationId('bob', 'carol');
    for (let i = 1; i <= 5; i++) {
      await alice.sendMessage(DM, `a${i}`);
      await carol.sendMessage(carolDm, `c${i}`);
    }
    expect(await world.stores.inbox.depth({ userId: 'bob', deviceId: 'phone' })).toBe(10);
    const bob = await connectDevice(world, 'bob', 'phone');
    expect(bob.seqs(DM)).toEqual([1, 2, 3, 4, 5]);
    expect(bob.seqs(carolDm)).toEqual([1, 2, 3, 4, 5]);
    // Welcome first, then the backlog.
    expect(bob.frames[0]?.type).toBe('welcome');
  });

  it('live events arriving while the inbox drains are neither reordered nor duplicated', async () => {
    const world = createTestWorld({ limits: { sendBufferPauseBytes: 10_000, sendBufferBytesMax: 100_000_000, rateBurstFrames: 10_000 } });
    const alice = await connectDevice(world, 'alice', 'phone');
    const carol = await connectDevice(world, 'carol', 'phone');
    await registerUser(world, 'bob', 'phone');
    const carolDm = directConversationId('bob', 'carol');
    for (let i = 1; i <= 300; i++) await alice.sendMessage(DM, `a${i}`);
    for (let i = 1; i <= 150; i++) await carol.sendMessage(carolDm, `c${i}`);

    // A socket that never drains on its own: the drain stops once the buffer passes the pause mark.
    const bob = await connectDevice(world, 'bob', 'phone', { connection: { buffering: 'accumulate' } });
    const beforeLive = bob.events().length;
    expect(beforeLive).toBeGreaterThan(0);
    expect(beforeLive).toBeLessThan(450);
    expect(bob.connection.paused).toBe(true);

    // Live traffic while the drain waits: held back, not interleaved.
    for (let i = 301; i <= 310; i++) await alice.sendMessage(DM, `a${i}`);
    for (let i = 151; i <= 155; i++) await carol.sendMessage(carolDm, `c${i}`);
    await settle();
    expect(bob.events().length).toBe(beforeLive);

    for (let round = 0; round < 200 && bob.connection.paused; round++) {
      bob.drain();
      await settle();
    }
    expect(bob.connection.paused).toBe(false);
    expect(bob.seqs(DM)).toEqual(Array.from({ length: 310 }, (_, i) => i + 1));
    expect(bob.seqs(carolDm)).toEqual(Array.from({ length: 155 }, (_, i) => i + 1));

    // After the drain, live delivery goes on in order.
    await alice.sendMessage(DM, 'a311');
    await settle();
    expect(bob.seqs(DM).at(-1)).toBe(311);
    expect(new Set(bob.seqs(DM)).size).toBe(311);
  });

  it('events racing the authentication are delivered exactly once, in order', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    await registerUser(world, 'bob', 'phone');
    for (let i = 1; i <= 3; i++) await alice.sendMessage(DM, `early${i}`);
    // Pipeline sends while bob authenticates and drains, without waiting between them.
    const { token } = await world.core.auth.issueToken({ userId: 'bob', deviceId: 'phone' });
    const { openClient } = await import('../testing/in-process-client.js');
    const bob = openClient(world, 'bob', 'phone');
    bob.send({ type: 'auth', v: 1, token });
    for (let i = 4; i <= 12; i++) {
      alice.send({ type: 'send', rid: `r${i}`, conversationId: DM, clientMessageId: `late${i}`, body: b64(`${i}`) });
      await Promise.resolve();
    }
    await alice.waitFor((f) => f.type === 'sent' && f.rid === 'r12');
    await settle();
    expect(bob.seqs(DM)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('an acknowledged event leaves the inbox: a reconnect drains only what was not acked', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    let bob = await connectDevice(world, 'bob', 'phone');
    for (let i = 1; i <= 3; i++) await alice.sendMessage(DM, `m${i}`);
    await settle();
    expect(bob.seqs(DM)).toEqual([1, 2, 3]);
    bob.ack(DM, 2);
    await settle();
    expect(await world.stores.inbox.depth({ userId: 'bob', deviceId: 'phone' })).toBe(1);
    await bob.close();
    bob = await connectDevice(world, 'bob', 'phone');
    expect(bob.seqs(DM)).toEqual([3]);
    bob.ack(DM, 3);
    await settle();
    await bob.close();
    bob = await connectDevice(world, 'bob', 'phone');
    expect(bob.events()).toEqual([]);
    expect(await world.stores.inbox.depth({ userId: 'bob', deviceId: 'phone' })).toBe(0);
  });

  it('refuses a body above messageBytesMax with MESSAGE_TOO_LARGE', async () => {
    const world = createTestWorld({ limits: { messageBytesMax: 100 } });
    const alice = await connectDevice(world, 'alice', 'phone');
    await connectDevice(world, 'bob', 'phone');
    const ok = await alice.requestOk(
      { type: 'send', conversationId: DM, clientMessageId: 'fits', body: Buffer.alloc(100).toString('base64') },
      'sent',
    );
    expect(ok.seq).toBe(1);
    const error = await alice.requestError({
      type: 'send',
      conversationId: DM,
      clientMessageId: 'big',
      body: Buffer.alloc(101).toString('base64'),
    });
    expect(error.code).toBe('MESSAGE_TOO_LARGE');
    expect(await world.stores.messages.lastSeq(DM)).toBe(1);
  });

  it('records a 1:1 conversation for both users from its first message', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    const bob = await connectDevice(world, 'bob', 'phone');
    await alice.sendMessage(DM, 'm1');
    await alice.sendMessage(DM, 'm2');
    const list = await bob.requestOk({ type: 'conversations' }, 'conversations_result');
    expect(list.conversations).toEqual([{ conversationId: DM, kind: 'direct', lastSeq: 2 }]);
  });
});

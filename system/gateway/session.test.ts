import { describe, expect, it } from 'vitest';
import { ChatError } from '../core/errors.js';
import { directConversationId } from '../core/ids.js';
import { serverFrameSchema } from '../protocol/frames.js';
import { CloseCodes } from '../protocol/version.js';
import { b64, connectDevice, createTestWorld, openClient, registerUser, settle } from '../testing/in-process-client.js';

const DM = directConversationId('alice', 'bob');

describe('Session: authentication', () => {
  it('answers frames before auth with NOT_AUTHENTICATED and stays open', async () => {
    const world = createTestWorld();
    const client = openClient(world, 'alice', 'phone');
    client.send({ type: 'conversations', rid: 'early' });
    client.send({ type: 'heartbeat' });
    await settle();
    expect(client.errors().map((e) => [e.code, e.rid, e.inReplyTo])).toEqual([
      ['NOT_AUTHENTICATED', 'early', 'conversations'],
      ['NOT_AUTHENTICATED', undefined, 'heartbeat'],
    ]);
    expect(client.isClosed).toBe(false);
    const { token } = await world.core.auth.issueToken({ userId: 'alice', deviceId: 'phone' });
    client.send({ type: 'auth', v: 1, token });
    await client.waitFor((f) => f.type === 'welcome');
  });

  it('queues frames sent after auth but before welcome and runs them in order after it', async () => {
    const world = createTestWorld();
    await registerUser(world, 'bob');
    const client = openClient(world, 'alice', 'phone');
    const { token } = await world.core.auth.issueToken({ userId: 'alice', deviceId: 'phone' });
    client.send({ type: 'auth', v: 1, token, rid: 'a' });
    client.send({ type: 'send', rid: 's1', conversationId: DM, clientMessageId: 'm1', body: b64('1') });
    client.send({ type: 'send', rid: 's2', conversationId: DM, clientMessageId: 'm2', body: b64('2') });
    client.send({ type: 'conversations', rid: 'c' });
    await client.waitFor((f) => f.type === 'conversations_result');
    await client.waitFor((f) => f.type === 'sent' && f.rid === 's2');
    // Every answer comes after the welcome; the sends were accepted in the order they were sent.
    expect(client.frames[0]?.type).toBe('welcome');
    expect(client.frames.map((f) => f.type).sort()).toEqual(['conversations_result', 'sent', 'sent', 'welcome']);
    expect(client.framesOf('sent').map((s) => [s.rid, s.seq])).toEqual([
      ['s1', 1],
      ['s2', 2],
    ]);
  });

  it('a second auth is ALREADY_AUTHENTICATED; the session keeps working', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    const { token } = await world.core.auth.issueToken({ userId: 'mallory', deviceId: 'x' });
    const error = await alice.requestError({ type: 'auth', v: 1, token });
    expect(error).toMatchObject({ code: 'ALREADY_AUTHENTICATED', inReplyTo: 'auth' });
    expect(alice.isClosed).toBe(false);
    await connectDevice(world, 'bob', 'phone');
    expect((await alice.sendMessage(DM, 'm1')).seq).toBe(1);
    expect(await world.stores.directory.userExists('mallory')).toBe(false);
  });

  it('an unsupported protocol version is refused (an error answering auth) and the connection closed with POLICY', async () => {
    const world = createTestWorld();
    const client = await connectDevice(world, 'alice', 'phone', { v: 2, expectWelcome: false, rid: 'r' });
    expect(client.errors()).toEqual([expect.objectContaining({ code: 'UNSUPPORTED_VERSION', rid: 'r', inReplyTo: 'auth' })]);
    expect(client.connection.closeCode).toBe(CloseCodes.POLICY);
    expect(await world.stores.directory.userExists('alice')).toBe(false);
  });

  it('a store failing during auth closes with GOING_AWAY (retry), not AUTH_FAILED (give up)', async () => {
    const world = createTestWorld();
    const directory = world.stores.directory;
    const linkDevice = directory.linkDevice.bind(directory);
    directory.linkDevice = () => Promise.reject(new ChatError('STORAGE_UNAVAILABLE', 'the directory is out'));
    const client = await connectDevice(world, 'alice', 'phone', { expectWelcome: false, rid: 'r' });
    expect(client.errors()).toEqual([
      expect.objectContaining({ code: 'STORAGE_UNAVAILABLE', rid: 'r', inReplyTo: 'auth', retryable: true }),
    ]);
    expect(client.connection.closeCode).toBe(CloseCodes.GOING_AWAY);
    directory.linkDevice = linkDevice;
    await connectDevice(world, 'alice', 'phone');
  });

  it('a frame routed to a connection before its welcome is sent right after the welcome', async () => {
    // Found by the seed swarm (swarm-small seed 760): a receipt reached a connection between its
    // registration and its welcome, so the client read it before knowing who it was.
    const world = createTestWorld();
    const presence = world.stores.presence;
    const markOnline = presence.markOnline.bind(presence);
    let routedBeforeWelcome = false;
    presence.markOnline = async (device, ttlMs) => {
      const [registered] = await world.stores.registry.lookup(device.userId);
      const receipt = {
        type: 'receipt' as const,
        conversationId: DM,
        state: 'delivered' as const,
        upToSeq: 1,
        userId: 'bob',
        deviceId: 'phone',
      };
      await world.core.deps.router.deliver(registered!.route, receipt, device);
      routedBeforeWelcome = true;
      return markOnline(device, ttlMs);
    };
    const alice = await connectDevice(world, 'alice', 'phone');
    await settle();
    expect(routedBeforeWelcome).toBe(true);
    expect(alice.frames.map((f) => f.type).slice(0, 2)).toEqual(['welcome', 'receipt']);
  });

  it('binary frames get BAD_FRAME and do not close the connection', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    alice.sendBinary();
    expect(alice.errors().map((e) => e.code)).toEqual(['BAD_FRAME']);
    expect(alice.isClosed).toBe(false);
  });

  it('a connection that never authenticates is closed as a zombie', async () => {
    const world = createTestWorld();
    const client = openClient(world);
    await world.clock.advance(world.core.deps.limits.heartbeatTimeoutMs + world.core.deps.limits.heartbeatTimeoutMs / 4);
    expect(client.connection.closeCode).toBe(CloseCodes.HEARTBEAT_TIMEOUT);
    expect(world.node.sessionCount).toBe(0);
  });

  it('closes a connection that falls silent right at its heartbeat timeout, and never one that keeps talking', async () => {
    const world = createTestWorld();
    const timeoutMs = world.core.deps.limits.heartbeatTimeoutMs;
    const talker = await connectDevice(world, 'alice', 'phone');
    const quiet = await connectDevice(world, 'bob', 'phone');
    // Alice sends a heartbeat every third of the timeout for three timeouts: she stays.
    for (let i = 0; i < 9; i++) {
      await world.clock.advance(timeoutMs / 3);
      talker.session.handleText(JSON.stringify({ type: 'heartbeat' }));
    }
    expect(talker.isClosed).toBe(false);
    expect(quiet.connection.closeCode).toBe(CloseCodes.HEARTBEAT_TIMEOUT);
    // Bob spoke last at connect time; fall silent now with Alice and she is closed just after the timeout, not before.
    await world.clock.advance(timeoutMs);
    expect(talker.isClosed).toBe(false);
    await world.clock.advance(2);
    expect(talker.connection.closeCode).toBe(CloseCodes.HEARTBEAT_TIMEOUT);
  });

  it('closing removes the registry entry and the router endpoint', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    expect(await world.stores.registry.lookup('alice')).toHaveLength(1);
    expect(world.router.connectionCount).toBe(1);
    const acksBeforeClose = alice.frames.filter((f) => f.type === 'heartbeat_ack').length;
    await alice.close();
    expect(await world.stores.registry.lookup('alice')).toEqual([]);
    expect(world.router.connectionCount).toBe(0);
    expect(world.node.sessionCount).toBe(0);
    // A closed session ignores anything that still arrives.
    alice.session.handleText(JSON.stringify({ type: 'heartbeat' }));
    expect(alice.frames.filter((f) => f.type === 'heartbeat_ack')).toHaveLength(acksBeforeClose);
  });
});

describe('Session: rate limit', () => {
  it('answers frames beyond the burst with RATE_LIMITED and a retry hint, then refills with time', async () => {
    const world = createTestWorld({ limits: { rateBurstFrames: 5, rateFramesPerSecond: 2 } });
    const alice = await connectDevice(world, 'alice', 'phone'); // auth took one token
    for (let i = 0; i < 6; i++) alice.send({ type: 'conversations', rid: `c${i}` });
    await settle();
    expect(alice.framesOf('conversations_result').map((f) => f.rid)).toEqual(['c0', 'c1', 'c2', 'c3']);
    const limited = alice.errors();
    expect(limited).toHaveLength(2);
    for (const error of limited) {
      expect(error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
      expect(error.retryAfterMs).toBeGreaterThan(0);
      expect(error.retryAfterMs).toBeLessThanOrEqual(500);
    }
    expect(alice.isClosed).toBe(false);
    await world.clock.advance(limited[0]!.retryAfterMs!);
    const answer = await alice.request({ type: 'conversations' });
    expect(answer.type).toBe('conversations_result');
  });

  it('closes a connection that keeps flooding (more than 100 rejected frames in a row)', async () => {
    const world = createTestWorld({ limits: { rateBurstFrames: 5, rateFramesPerSecond: 1 } });
    const alice = await connectDevice(world, 'alice', 'phone');
    const bob = await connectDevice(world, 'bob', 'phone');
    for (let i = 0; i < 200 && !alice.isClosed; i++) alice.send({ type: 'conversations', rid: `c${i}` });
    await settle();
    expect(alice.isClosed).toBe(true);
    expect(alice.connection.closeCode).toBe(CloseCodes.RATE_LIMITED);
    expect(alice.errors().filter((e) => e.code === 'RATE_LIMITED').length).toBe(101);
    // Other connections are unaffected.
    expect((await bob.sendMessage(DM, 'still-here')).seq).toBe(1);
  });
});

describe('Session: backpressure', () => {
  const limits = { sendBufferPauseBytes: 1_000, sendBufferBytesMax: 5_000 };

  it('pauses reading above sendBufferPauseBytes and resumes when the buffer drains below half', async () => {
    const world = createTestWorld({ limits });
    const alice = await connectDevice(world, 'alice', 'phone');
    const bob = await connectDevice(world, 'bob', 'phone');
    bob.setBufferedBytes(1_001);
    await alice.sendMessage(DM, 'm1');
    await settle();
    expect(bob.connection.paused).toBe(true);
    expect(bob.connection.pauseCount).toBe(1);

    // While paused the server reads nothing: the client's frames wait in the transport.
    bob.send({ type: 'conversations', rid: 'while-paused' });
    await settle();
    expect(bob.framesOf('conversations_result')).toEqual([]);

    bob.setBufferedBytes(600); // not below half of the pause mark yet
    await settle();
    expect(bob.connection.paused).toBe(true);
    bob.setBufferedBytes(499);
    await settle();
    expect(bob.connection.paused).toBe(false);
    expect(bob.connection.resumeCount).toBe(1);
    expect(bob.framesOf('conversations_result').map((f) => f.rid)).toEqual(['while-paused']);
  });

  it('closes a slow consumer above sendBufferBytesMax; its undelivered events wait in the inbox', async () => {
    const world = createTestWorld({ limits });
    const alice = await connectDevice(world, 'alice', 'phone');
    const bob = await connectDevice(world, 'bob', 'phone');
    await alice.sendMessage(DM, 'm1');
    await settle();
    expect(bob.seqs(DM)).toEqual([1]);

    bob.setBufferedBytes(5_001);
    await alice.sendMessage(DM, 'm2');
    await settle();
    expect(bob.isClosed).toBe(true);
    expect(bob.connection.closeCode).toBe(CloseCodes.SLOW_CONSUMER);
    expect(bob.connection.closedBy).toBe('server');
    expect(await world.stores.registry.lookup('bob')).toEqual([]);

    await alice.sendMessage(DM, 'm3');
    expect(await world.stores.inbox.depth({ userId: 'bob', deviceId: 'phone' })).toBe(3);
    const again = await connectDevice(world, 'bob', 'phone');
    expect(again.seqs(DM)).toEqual([1, 2, 3]);
  });

  it("an inbox drain goes at the socket's pace: it waits whenever the send buffer passes the pause mark", async () => {
    const world = createTestWorld({ limits: { sendBufferPauseBytes: 5_000, sendBufferBytesMax: 10_000_000, rateBurstFrames: 1_000 } });
    const alice = await connectDevice(world, 'alice', 'phone');
    await registerUser(world, 'bob', 'phone');
    for (let i = 1; i <= 450; i++) await alice.sendMessage(DM, `m${i}`);
    const bob = await connectDevice(world, 'bob', 'phone', { connection: { buffering: 'accumulate' } });
    const firstBurst = bob.seqs(DM).length;
    expect(firstBurst).toBeGreaterThan(0);
    expect(firstBurst).toBeLessThan(450);
    expect(bob.connection.maxBufferedBytes ?? 0).toBeLessThan(5_000 + 1_000);
    let rounds = 0;
    while (bob.seqs(DM).length < 450 && rounds++ < 500) {
      bob.drain();
      await settle();
    }
    expect(rounds).toBeGreaterThan(1);
    expect(bob.seqs(DM)).toEqual(Array.from({ length: 450 }, (_, i) => i + 1));
  });
});

describe('Session: graceful shutdown', () => {
  it('sends goaway with reconnectAfterMs to every session, finishes requests in flight, then closes all', async () => {
    const world = createTestWorld({ peerUrls: ['ws://other:8080/ws'] });
    const alice = await connectDevice(world, 'alice', 'phone');
    const bob = await connectDevice(world, 'bob', 'phone');
    const carol = await connectDevice(world, 'carol', 'phone');
    // A request in flight when the shutdown starts still gets its answer.
    alice.send({ type: 'send', rid: 'inflight', conversationId: DM, clientMessageId: 'm1', body: b64('x') });
    await world.node.shutdown();
    expect(world.node.isAccepting).toBe(false);
    for (const client of [alice, bob, carol]) {
      expect(client.framesOf('goaway')).toEqual([
        {
          type: 'goaway',
          reason: 'shutting_down',
          reconnectAfterMs: world.core.deps.limits.reconnectAfterMs,
          urls: ['ws://other:8080/ws'],
        },
      ]);
      expect(client.connection.closeCode).toBe(CloseCodes.SHUTTING_DOWN);
      for (const frame of client.frames) expect(serverFrameSchema.safeParse(frame).success).toBe(true);
    }
    const types = alice.frames.map((f) => f.type);
    expect(types.indexOf('goaway')).toBeLessThan(types.indexOf('sent'));
    expect(alice.framesOf('sent')).toEqual([expect.objectContaining({ rid: 'inflight', seq: 1 })]);
    expect(world.node.sessionCount).toBe(0);
    await settle();
    expect(await world.stores.registry.lookup('alice')).toEqual([]);
  });

  it('does not wait longer than shutdownDrainMs for a request that never finishes', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    await registerUser(world, 'bob');
    // A store that hangs: the append never resolves.
    world.stores.messages.append = () => new Promise(() => undefined);
    alice.send({ type: 'send', rid: 'stuck', conversationId: DM, clientMessageId: 'm1', body: b64('x') });
    let done = false;
    const shutdown = world.node.shutdown().then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    expect(alice.framesOf('goaway')).toHaveLength(1);
    await world.clock.advance(world.core.deps.limits.shutdownDrainMs);
    await shutdown;
    expect(alice.connection.closeCode).toBe(CloseCodes.SHUTTING_DOWN);
  });
});

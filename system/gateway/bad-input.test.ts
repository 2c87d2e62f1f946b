/**
 * Every kind of bad input gets its documented error code, stores nothing, and leaves the other
 * sessions working.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../adapters/virtual/manual-clock.js';
import { errorCodeList, type ErrorCode } from '../core/errors.js';
import { directConversationId } from '../core/ids.js';
import { defaultLimits, type Limits } from '../core/limits.js';
import { serverFrameSchema, type ServerFrameOf } from '../protocol/frames.js';
import { JwtTokenAuthority } from '../adapters/jwt/jwt-token-authority.js';
import { sharedSecretTokenSettings } from '../adapters/jwt/jwt-settings.js';
import {
  b64,
  connectDevice,
  createTestWorld,
  openClient,
  registerUser,
  settle,
  type InProcessClient,
  type TestWorld,
} from '../testing/in-process-client.js';

const ALICE_BOB = directConversationId('alice', 'bob');
const BOB_CAROL = directConversationId('bob', 'carol');
const DEVICES = ['alice', 'bob', 'carol'].map((userId) => ({ userId, deviceId: 'phone' }));

interface Ctx {
  world: TestWorld;
  alice: InProcessClient;
  bob: InProcessClient;
  carol: InProcessClient;
  /** A group of bob and carol (alice is not in it). */
  group: string;
  /** Whatever a case's prepare step wants to hand to its run step. */
  extra?: string;
}

async function setup(limits: Partial<Limits> = {}): Promise<Ctx> {
  const world = createTestWorld({ limits });
  const alice = await connectDevice(world, 'alice', 'phone');
  const bob = await connectDevice(world, 'bob', 'phone');
  const carol = await connectDevice(world, 'carol', 'phone');
  await alice.sendMessage(ALICE_BOB, 'seed');
  const { conversationId: group } = await bob.requestOk({ type: 'group_create', name: 'bc', members: ['carol'] }, 'group_result');
  await settle();
  for (const client of [alice, bob, carol]) client.ackAll();
  await settle();
  return { world, alice, bob, carol, group };
}

interface Snapshot {
  events: string[];
  inboxDepths: number[];
  groups: string[];
  devices: string[];
}

async function snapshot({ world }: Ctx): Promise<Snapshot> {
  const events = [...world.stores.messages.allEvents()].map((e) => `${e.conversationId}#${e.seq}`);
  const inboxDepths = await Promise.all(DEVICES.map((d) => world.stores.inbox.depth(d)));
  const groups = (await Promise.all(['alice', 'bob', 'carol', 'zed'].map((u) => world.stores.conversations.listConversations(u))))
    .flat()
    .sort();
  const devices = (await Promise.all(['alice', 'bob', 'carol', 'zed'].map((u) => world.stores.directory.listDevices(u))))
    .flat()
    .map((d) => `${d.userId}/${d.deviceId}`);
  return { events, inboxDepths, groups, devices };
}

/** Other sessions still work: bob's message reaches carol. */
async function othersStillWork(ctx: Ctx, tag: string): Promise<void> {
  const sent = await ctx.bob.sendMessage(BOB_CAROL, `after-${tag}`);
  await settle();
  expect(ctx.carol.events(BOB_CAROL).at(-1)).toMatchObject({ seq: sent.seq, clientMessageId: `after-${tag}`, senderUserId: 'bob' });
}

function expectValidFrames(client: InProcessClient): void {
  for (const frame of client.frames) {
    const parsed = serverFrameSchema.safeParse(frame);
    expect(parsed.success, JSON.stringify(frame)).toBe(true);
  }
}

interface BadInputCase {
  name: string;
  code: ErrorCode;
  limits?: Partial<Limits>;
  /** Builds what the case needs, before the "nothing stored" snapshot is taken. */
  prepare?(ctx: Ctx): Promise<void>;
  /** Sends the bad input; resolves with the error frames it produced. */
  run(ctx: Ctx): Promise<Array<ServerFrameOf<'error'>>>;
}

/** Sends raw text on alice's connection and collects the error frames that answer it. */
async function raw(client: InProcessClient, text: string): Promise<Array<ServerFrameOf<'error'>>> {
  const mark = client.mark();
  client.send(text);
  await client.waitFor((f) => f.type === 'error', { since: mark });
  await settle();
  return client.errors(mark);
}

async function frameFrom(client: InProcessClient, frame: Record<string, unknown>): Promise<Array<ServerFrameOf<'error'>>> {
  return raw(client, JSON.stringify(frame));
}

/** A connection that authenticates with `token` (or none) and returns its errors. */
async function authWith(ctx: Ctx, token: string, v = 1): Promise<Array<ServerFrameOf<'error'>>> {
  const client = openClient(ctx.world, 'alice', 'phone2');
  const errors = await frameFrom(client, { type: 'auth', v, token });
  expect(client.isClosed).toBe(true);
  expect(client.framesOf('welcome')).toEqual([]);
  return errors;
}

const cases: BadInputCase[] = [
  { name: 'malformed JSON', code: 'BAD_FRAME', run: ({ alice }) => raw(alice, '{"type":"send","conversationId":') },
  { name: 'empty frame', code: 'BAD_FRAME', run: ({ alice }) => raw(alice, '') },
  { name: 'a JSON number', code: 'BAD_FRAME', run: ({ alice }) => raw(alice, '42') },
  { name: 'a JSON string', code: 'BAD_FRAME', run: ({ alice }) => raw(alice, '"send"') },
  { name: 'a JSON array', code: 'BAD_FRAME', run: ({ alice }) => raw(alice, '[{"type":"send"}]') },
  { name: 'JSON null', code: 'BAD_FRAME', run: ({ alice }) => raw(alice, 'null') },
  { name: 'unknown frame type', code: 'UNKNOWN_FRAME_TYPE', run: ({ alice }) => frameFrom(alice, { type: 'launch', rid: 'u1' }) },
  { name: 'missing type', code: 'UNKNOWN_FRAME_TYPE', run: ({ alice }) => frameFrom(alice, { conversationId: ALICE_BOB }) },
  { name: 'non-string type', code: 'UNKNOWN_FRAME_TYPE', run: ({ alice }) => frameFrom(alice, { type: 7 }) },
  { name: 'inherited property as type', code: 'UNKNOWN_FRAME_TYPE', run: ({ alice }) => frameFrom(alice, { type: 'constructor' }) },
  {
    name: 'wrong field type (number conversationId)',
    code: 'INVALID_FIELD',
    run: ({ alice }) => frameFrom(alice, { type: 'send', rid: 'w1', conversationId: 5, clientMessageId: 'x', body: '' }),
  },
  {
    name: 'wrong field type (body not base64)',
    code: 'INVALID_FIELD',
    run: ({ alice }) => frameFrom(alice, { type: 'send', conversationId: ALICE_BOB, clientMessageId: 'x', body: 'not base64!' }),
  },
  {
    name: 'missing field (no clientMessageId)',
    code: 'INVALID_FIELD',
    run: ({ alice }) => frameFrom(alice, { type: 'send', conversationId: ALICE_BOB, body: '' }),
  },
  {
    name: 'malformed conversation id',
    code: 'INVALID_FIELD',
    run: ({ alice }) => frameFrom(alice, { type: 'send', conversationId: 'room-1', clientMessageId: 'x', body: '' }),
  },
  {
    name: 'ack with seq 0',
    code: 'INVALID_FIELD',
    run: ({ alice }) => frameFrom(alice, { type: 'ack', conversationId: ALICE_BOB, seq: 0 }),
  },
  {
    name: 'ack with fractional seq',
    code: 'INVALID_FIELD',
    run: ({ alice }) => frameFrom(alice, { type: 'ack', conversationId: ALICE_BOB, seq: 1.5 }),
  },
  {
    name: 'sync without rid',
    code: 'INVALID_FIELD',
    run: ({ alice }) => frameFrom(alice, { type: 'sync', conversationId: ALICE_BOB, afterSeq: 0 }),
  },
  {
    name: 'oversized frame',
    code: 'FRAME_TOO_LARGE',
    limits: { frameBytesMax: 2_048 },
    run: ({ alice }) => frameFrom(alice, { type: 'send', conversationId: ALICE_BOB, clientMessageId: 'big', body: b64('x'.repeat(2_000)) }),
  },
  {
    name: 'oversized frame, by UTF-8 bytes not characters',
    code: 'FRAME_TOO_LARGE',
    limits: { frameBytesMax: 2_048 },
    run: ({ alice }) => raw(alice, JSON.stringify({ type: 'heartbeat', pad: 'é'.repeat(1_020) })),
  },
  {
    name: 'oversized message body',
    code: 'MESSAGE_TOO_LARGE',
    limits: { messageBytesMax: 1_000 },
    run: ({ alice }) =>
      frameFrom(alice, { type: 'send', conversationId: ALICE_BOB, clientMessageId: 'big', body: Buffer.alloc(1_001).toString('base64') }),
  },
  {
    name: 'frame before auth',
    code: 'NOT_AUTHENTICATED',
    run: async ({ world }) => {
      const client = openClient(world);
      const errors = await frameFrom(client, { type: 'send', conversationId: ALICE_BOB, clientMessageId: 'early', body: '' });
      expect(client.isClosed).toBe(false);
      return errors;
    },
  },
  {
    name: 'auth twice',
    code: 'ALREADY_AUTHENTICATED',
    run: async ({ world, alice }) =>
      frameFrom(alice, { type: 'auth', v: 1, token: (await world.core.auth.issueToken({ userId: 'bob', deviceId: 'phone' })).token }),
  },
  {
    name: 'unsupported protocol version',
    code: 'UNSUPPORTED_VERSION',
    run: async (ctx) => authWith(ctx, (await ctx.world.core.auth.issueToken({ userId: 'alice', deviceId: 'phone2' })).token, 99),
  },
  {
    name: 'sending into a dm of two other users',
    code: 'NOT_A_MEMBER',
    run: ({ alice }) => frameFrom(alice, { type: 'send', conversationId: BOB_CAROL, clientMessageId: 'intrude', body: b64('hi') }),
  },
  {
    name: 'sending into a group one is not in',
    code: 'NOT_A_MEMBER',
    run: ({ alice, group }) => frameFrom(alice, { type: 'send', conversationId: group, clientMessageId: 'intrude', body: b64('hi') }),
  },
  {
    name: 'spoofed sender (a dm of two others, claiming to be bob)',
    code: 'NOT_A_MEMBER',
    run: ({ alice }) =>
      frameFrom(alice, {
        type: 'send',
        conversationId: BOB_CAROL,
        clientMessageId: 'spoof',
        body: b64('I am bob'),
        senderUserId: 'bob',
        senderDeviceId: 'phone',
        userId: 'bob',
        from: 'bob',
      }),
  },
  {
    name: 'a dm with a user who never connected',
    code: 'UNKNOWN_USER',
    run: ({ alice }) =>
      frameFrom(alice, { type: 'send', conversationId: directConversationId('alice', 'zed'), clientMessageId: 'x', body: '' }),
  },
  {
    name: 'a group that does not exist',
    code: 'UNKNOWN_CONVERSATION',
    run: ({ alice }) => frameFrom(alice, { type: 'send', conversationId: 'grp:deadbeefdeadbeef', clientMessageId: 'x', body: '' }),
  },
  {
    name: 'an unsorted dm id',
    code: 'UNKNOWN_CONVERSATION',
    run: ({ alice }) => frameFrom(alice, { type: 'send', conversationId: 'dm:bob:alice', clientMessageId: 'x', body: '' }),
  },
  {
    name: 'expired token',
    code: 'TOKEN_EXPIRED',
    run: async (ctx) => {
      const { token } = await ctx.world.core.auth.issueToken({ userId: 'alice', deviceId: 'phone2' }, 10_000);
      // Keep the others alive across the jump.
      await ctx.world.clock.advance(10_001);
      for (const client of [ctx.alice, ctx.bob, ctx.carol]) await client.heartbeat();
      return authWith(ctx, token);
    },
  },
  { name: 'garbled token', code: 'TOKEN_INVALID', run: (ctx) => authWith(ctx, 'eyJhbGciOiJIUzI1NiJ9.garbled.token') },
  { name: 'random text as token', code: 'TOKEN_INVALID', run: (ctx) => authWith(ctx, 'hello world') },
  {
    name: 'token signed with another secret',
    code: 'TOKEN_INVALID',
    run: async (ctx) => {
      const other = new JwtTokenAuthority(
        sharedSecretTokenSettings('some-other-secret-0123456789'),
        new ManualClock(ctx.world.clock.nowMs()),
        defaultLimits,
      );
      return authWith(ctx, (await other.issue({ userId: 'alice', deviceId: 'phone2' }, 60_000)).token);
    },
  },
  {
    name: '257th group member',
    code: 'GROUP_FULL',
    prepare: async (ctx) => {
      const users = Array.from({ length: 256 }, (_, i) => `member${i}`);
      for (const userId of users) await registerUser(ctx.world, userId);
      const { conversationId } = await ctx.alice.requestOk(
        { type: 'group_create', name: 'full', members: users.slice(0, 255) },
        'group_result',
      );
      await settle();
      ctx.alice.ackAll();
      await settle();
      ctx.extra = conversationId;
    },
    run: async ({ world, alice, extra }) => {
      const errors = await frameFrom(alice, { type: 'group_add', rid: 'add', conversationId: extra, userIds: ['member255'] });
      expect(await world.stores.messages.lastSeq(extra!)).toBe(1);
      expect((await world.stores.conversations.getGroup(extra!))?.spans).toHaveLength(256);
      expect(await world.stores.inbox.depth({ userId: 'member0', deviceId: 'd1' })).toBe(1);
      return errors;
    },
  },
  {
    name: 'media upload above mediaBytesMax',
    code: 'MEDIA_TOO_LARGE',
    run: ({ world, alice }) =>
      frameFrom(alice, {
        type: 'media_upload',
        rid: 'm',
        conversationId: ALICE_BOB,
        sizeBytes: world.core.deps.limits.mediaBytesMax + 1,
        contentType: 'image/png',
        sha256: '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
      }),
  },
];

describe('bad input', () => {
  it.each(cases)('$name → $code', async (testCase) => {
    const ctx = await setup(testCase.limits);
    await testCase.prepare?.(ctx);
    const before = await snapshot(ctx);
    const errors = await testCase.run(ctx);
    expect(errors.map((e) => e.code)).toEqual([testCase.code]);
    expect(errorCodeList).toContain(errors[0]!.code);
    expect(errors[0]!.retryable).toBe(false);
    await settle();

    expect(await snapshot(ctx)).toEqual(before);
    for (const client of [ctx.alice, ctx.bob, ctx.carol]) {
      expectValidFrames(client);
      expect(client.isClosed).toBe(false);
    }
    await othersStillWork(ctx, 'bad');
    // The offending connection (alice's, unless the case used its own) still works too.
    const again = await ctx.alice.sendMessage(ALICE_BOB, 'after-bad');
    expect(again.seq).toBe(2);
  });

  it('the stored sender is always the token’s user and device, whatever the frame claims', async () => {
    const ctx = await setup();
    const sent = await ctx.alice.requestOk(
      {
        type: 'send',
        conversationId: ALICE_BOB,
        clientMessageId: 'claims',
        body: b64('x'),
        senderUserId: 'bob',
        senderDeviceId: 'tablet',
        seq: 1,
        serverTimeMs: 0,
        kind: 'membership',
      },
      'sent',
    );
    const [stored] = await ctx.world.stores.messages.readAfter(ALICE_BOB, sent.seq - 1, 1);
    expect(stored).toEqual({
      kind: 'message',
      conversationId: ALICE_BOB,
      seq: 2,
      senderUserId: 'alice',
      senderDeviceId: 'phone',
      clientMessageId: 'claims',
      bodyBase64: b64('x'),
      serverTimeMs: ctx.world.clock.nowMs(),
    });
    await settle();
    expect(ctx.bob.events(ALICE_BOB).at(-1)).toEqual(stored);
  });

  it('errors echo the rid of a parsed frame (and only a usable one)', async () => {
    const ctx = await setup();
    const [unknown] = await frameFrom(ctx.alice, { type: 'nope', rid: 'r-unknown' });
    expect(unknown).toMatchObject({ code: 'UNKNOWN_FRAME_TYPE', rid: 'r-unknown' });
    const [invalid] = await frameFrom(ctx.alice, { type: 'sync', rid: 'r-invalid', conversationId: ALICE_BOB, afterSeq: -1 });
    expect(invalid).toMatchObject({ code: 'INVALID_FIELD', rid: 'r-invalid', inReplyTo: 'sync' });
    for (const rid of ['', 'x'.repeat(65), 5, null]) {
      const [error] = await frameFrom(ctx.alice, { type: 'nope', rid });
      expect(error?.rid).toBeUndefined();
    }
    expectValidFrames(ctx.alice);
  });
});

/**
 * Property: whatever an authenticated client sends — random JSON, random objects with a valid
 * `type` and random fields, plausible-but-wrong frames, random and very long strings — the
 * process never throws, every frame the server sends is a valid server frame, every error carries
 * a documented code (and none is INTERNAL), and the other connections keep working.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../adapters/virtual/seeded-random.js';
import { errorCodeList } from '../core/errors.js';
import { directConversationId, groupConversationId } from '../core/ids.js';
import { clientFrameSchemas, serverFrameSchema } from '../protocol/frames.js';
import { b64, connectDevice, createTestWorld, RecordingLogger, settle, type InProcessClient } from '../testing/in-process-client.js';

const SEED = 7;
const ALICE_BOB = directConversationId('alice', 'bob');
const ALICE_MALLORY = directConversationId('alice', 'mallory');
/** The id the world's SeededRandom gives the first group created in a run. */
const FIRST_GROUP = groupConversationId(new SeededRandom(SEED).hex(16));

const frameTypes = Object.keys(clientFrameSchemas);
const conversationIds = [
  ALICE_BOB,
  ALICE_MALLORY,
  FIRST_GROUP,
  'grp:deadbeefdeadbeef',
  'dm:mallory:zed',
  'dm:mallory:mallory',
  'dm:bob:alice',
  'dm:',
  'grp:',
  'nope',
];
const userIds = ['alice', 'bob', 'mallory', 'zed', '', 'a b', 'x'.repeat(65)];
const objectKeys = [`m/${ALICE_MALLORY}/00112233445566778899aabbccddeeff`, `m/${ALICE_BOB}/00`, 'm/../../etc/passwd', 'x'];

const plausibleValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    ...conversationIds,
    ...userIds,
    ...objectKeys,
    'image/png',
    'text/html',
    'phone',
    'AAAA',
    '=',
    null,
    true,
    false,
    0,
    -1,
    1,
    2 ** 53,
    1e308,
    -0.5,
  ),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.base64String({ maxLength: 40 }),
  fc.array(fc.constantFrom<unknown>(...userIds, 1, null), { maxLength: 5 }),
  fc.jsonValue({ maxDepth: 2 }),
);

const fieldNames = fc.oneof(
  fc.constantFrom(
    'rid',
    'v',
    'token',
    'conversationId',
    'clientMessageId',
    'body',
    'media',
    'seq',
    'afterSeq',
    'beforeSeq',
    'limit',
    'name',
    'members',
    'userIds',
    'userId',
    'admin',
    'sizeBytes',
    'contentType',
    'objectKey',
    'deviceId',
    'senderUserId',
    '__proto__',
    'constructor',
    'toString',
  ),
  fc.string({ maxLength: 8 }),
);

/** An object with a valid type and random fields. */
const typedRandomObject = fc
  .record({ type: fc.constantFrom(...frameTypes), fields: fc.dictionary(fieldNames, plausibleValue, { maxKeys: 8 }) })
  .map(({ type, fields }) => JSON.stringify({ ...fields, type }));

// Mostly valid values, so that many frames get past validation into the services.
const rid = fc.oneof(
  { arbitrary: fc.constantFrom('r1', 'r2', 'r3'), weight: 6 },
  { arbitrary: fc.constant(undefined), weight: 1 },
  { arbitrary: fc.string({ minLength: 0, maxLength: 70 }), weight: 1 },
);
const conversationId = fc.oneof(
  { arbitrary: fc.constantFrom(ALICE_MALLORY, FIRST_GROUP), weight: 3 },
  { arbitrary: fc.constantFrom(...conversationIds), weight: 2 },
);
const seqValue = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 6 }), weight: 4 },
  { arbitrary: fc.integer({ min: -1, max: 12 }), weight: 1 },
  { arbitrary: fc.constant(2 ** 53 - 1), weight: 1 },
);
const someUsers = fc.oneof(
  { arbitrary: fc.subarray(['alice', 'bob', 'mallory']), weight: 4 },
  { arbitrary: fc.subarray(['alice', 'bob', 'zed', 'mallory', 'a b']), weight: 1 },
);

function frame(fields: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)));
}

/** Frames shaped like real requests, with values near and beyond the edges. */
const sendFrame = fc
  .record({
    rid,
    conversationId,
    clientMessageId: fc.constantFrom('m1', 'm2', 'm3', 'm1', 'm2', 'bad id', ''),
    body: fc.oneof(
      { arbitrary: fc.constantFrom('', 'AAAA', 'QUJD'), weight: 3 },
      { arbitrary: fc.base64String({ maxLength: 40 }), weight: 1 },
      { arbitrary: fc.constantFrom('!!', 'A'.repeat(90_000)), weight: 1 },
    ),
    media: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 4 },
      {
        arbitrary: fc.record({
          objectKey: fc.constantFrom(...objectKeys),
          contentType: fc.constantFrom('image/png', ''),
          sizeBytes: fc.integer({ min: -1, max: 100 }),
        }),
        weight: 1,
      },
    ),
  })
  .map((f) => frame({ type: 'send', ...f }));

const groupCreateFrame = fc
  .record({ rid, name: fc.constantFrom('g', 'g', 'g', '  ', 'x'.repeat(101), ''), members: someUsers })
  .map((f) => frame({ type: 'group_create', ...f }));

const plausibleFrame: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: sendFrame, weight: 4 },
  { arbitrary: groupCreateFrame, weight: 2 },
  fc.record({ type: fc.constantFrom('ack', 'read'), conversationId, seq: seqValue }).map(frame),
  fc
    .record({ rid, conversationId, afterSeq: seqValue, limit: fc.option(fc.integer({ min: -1, max: 20_000 }), { nil: undefined }) })
    .map((f) => frame({ type: 'sync', ...f })),
  fc
    .record({
      rid,
      conversationId,
      beforeSeq: fc.option(seqValue, { nil: undefined }),
      limit: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
    })
    .map((f) => frame({ type: 'history', ...f })),
  fc.record({ type: fc.constantFrom('conversations', 'receipts', 'group_leave'), rid, conversationId }).map(frame),
  fc.record({ rid, conversationId, userIds: someUsers }).map((f) => frame({ type: 'group_add', ...f })),
  fc
    .record({
      type: fc.constantFrom('group_remove', 'group_admin'),
      rid,
      conversationId,
      userId: fc.constantFrom(...userIds),
      admin: fc.boolean(),
    })
    .map(frame),
  fc.record({ type: fc.constantFrom('presence_subscribe', 'presence_unsubscribe'), rid, userIds: someUsers }).map(frame),
  fc
    .record({
      rid,
      conversationId,
      sizeBytes: fc.integer({ min: -1, max: 20_000_000 }),
      contentType: fc.constantFrom('image/png', 'text/html', ''),
      sha256: fc.constantFrom('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', 'not-a-digest'),
    })
    .map((f) => frame({ type: 'media_upload', ...f })),
  fc.record({ rid, conversationId, objectKey: fc.constantFrom(...objectKeys) }).map((f) => frame({ type: 'media_download', ...f })),
  fc.record({ rid, token: fc.constantFrom('tok', null, '') }).map((f) => frame({ type: 'push_token', ...f })),
  fc.record({ rid, deviceId: fc.constantFrom('phone', 'other', '') }).map((f) => frame({ type: 'device_unlink', ...f })),
  fc.record({ rid, v: fc.constantFrom(1, 2), token: fc.constantFrom('x', 'v1.a.b') }).map((f) => frame({ type: 'auth', ...f })),
  fc.constant(frame({ type: 'heartbeat' })),
);

const longString = fc
  .integer({ min: 60_000, max: 600_000 })
  .chain((n) =>
    fc.constantFrom('x'.repeat(n), `{"type":"send","body":"${'A'.repeat(n)}"}`, `[${'1,'.repeat(n / 2)}1]`, '{"a":'.repeat(n / 5)),
  );

const fuzzFrame: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'), weight: 2 },
  { arbitrary: typedRandomObject, weight: 4 },
  { arbitrary: plausibleFrame, weight: 10 },
  { arbitrary: fc.string({ maxLength: 50 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 50 }), weight: 1 },
  { arbitrary: longString, weight: 1 },
);

type Step = { kind: 'fuzz'; text: string } | { kind: 'good' } | { kind: 'tick'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fuzzFrame.map((text): Step => ({ kind: 'fuzz', text })), weight: 6 },
  { arbitrary: fc.constant<Step>({ kind: 'good' }), weight: 2 },
  { arbitrary: fc.integer({ min: 1, max: 3_000 }).map((ms): Step => ({ kind: 'tick', ms })), weight: 1 },
);

function checkFrames(client: InProcessClient): void {
  for (const sent of client.frames) {
    const parsed = serverFrameSchema.safeParse(sent);
    if (!parsed.success)
      throw new Error(`invalid server frame to ${client.userId}: ${JSON.stringify(sent).slice(0, 300)}: ${parsed.error.message}`);
    if (sent.type === 'error') {
      expect(errorCodeList).toContain(sent.code);
      expect(sent.code, sent.message).not.toBe('INTERNAL');
    }
  }
}

describe('fuzz', () => {
  it('random frames from one session never break the process, the protocol or other sessions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40, size: 'max' }), async (steps) => {
        const log = new RecordingLogger();
        const world = createTestWorld({ seed: SEED, log });
        const mallory = await connectDevice(world, 'mallory', 'phone');
        const alice = await connectDevice(world, 'alice', 'phone');
        const bob = await connectDevice(world, 'bob', 'phone');
        let good = 0;
        for (const s of steps) {
          if (s.kind === 'fuzz') {
            expect(() => mallory.send(s.text)).not.toThrow();
          } else if (s.kind === 'good') {
            alice.send({
              type: 'send',
              rid: `good${++good}`,
              conversationId: ALICE_BOB,
              clientMessageId: `good${good}`,
              body: b64(`${good}`),
            });
          } else {
            await world.clock.advance(s.ms);
            alice.send({ type: 'heartbeat' });
            bob.send({ type: 'heartbeat' });
          }
          if (good % 2 === 0) await Promise.resolve();
          else await settle(1);
        }
        await settle();

        // The other sessions kept working: every good message was acked in order and delivered.
        alice.send({ type: 'send', rid: 'final', conversationId: ALICE_BOB, clientMessageId: 'final', body: b64('final') });
        await alice.waitFor((f) => 'rid' in f && f.rid === 'final');
        await settle();
        const acks = alice.framesOf('sent');
        expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: good + 1 }, (_, i) => i + 1));
        expect(bob.seqs(ALICE_BOB)).toEqual(acks.map((a) => a.seq));
        expect(alice.isClosed).toBe(false);
        expect(bob.isClosed).toBe(false);

        for (const client of [mallory, alice, bob]) checkFrames(client);
        expect(alice.errors()).toEqual([]);
        expect(bob.errors()).toEqual([]);
        expect(log.errors).toEqual([]);
      }),
      { numRuns: 300, seed: 20_240_601 },
    );
  });
});

/**
 * The MLS key directory and the epoch order of commits, through the gateway's frames: every bad
 * input gets its error code and stores nothing; a claim storm never hands a single-use KeyPackage
 * out twice.
 */
import { describe, expect, it } from 'vitest';
import { directConversationId } from '../core/ids.js';
import type { Limits } from '../core/limits.js';
import { encodeKeyPackage, newKeyPackage } from '../../sdk/mls/suite.js';
import { b64, connectDevice, createTestWorld, settle, type InProcessClient, type TestWorld } from '../testing/in-process-client.js';

/** Real crypto runs on the real event loop: allow it many turns. */
const TURNS = 20_000;

async function keyPackagesFor(userId: string, deviceId: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(encodeKeyPackage((await newKeyPackage({ userId, deviceId })).publicPackage));
  return out;
}

async function world(limits: Partial<Limits> = {}) {
  const w = createTestWorld({ limits: { keyPackagesPerUploadMax: 4, keyPackagesPerDeviceMax: 6, ...limits } });
  const alice = await connectDevice(w, 'alice', 'phone');
  const bob = await connectDevice(w, 'bob', 'phone');
  return { w, alice, bob };
}

async function ok(client: InProcessClient, frame: Record<string, unknown>) {
  const answer = await client.request(frame, { turns: TURNS });
  if (answer.type === 'error') throw new Error(`unexpected error ${answer.code}: ${answer.message}`);
  return answer;
}

async function fails(client: InProcessClient, frame: Record<string, unknown>) {
  const answer = await client.request(frame, { turns: TURNS });
  if (answer.type !== 'error') throw new Error(`expected an error, got ${JSON.stringify(answer).slice(0, 200)}`);
  return answer;
}

async function count(w: TestWorld, userId: string, deviceId: string) {
  return w.stores.keyPackages.count({ userId, deviceId });
}

describe('kp_upload', () => {
  it('stores the packages and the last-resort one and reports the count', async () => {
    const { alice } = await world();
    const [a1, a2, a3] = await keyPackagesFor('alice', 'phone', 3);
    expect(await ok(alice, { type: 'kp_upload', keyPackages: [a1, a2], lastResort: a3 })).toMatchObject({
      type: 'kp_status',
      available: 2,
      lastResort: true,
    });
    // A retried upload adds nothing.
    expect(await ok(alice, { type: 'kp_upload', keyPackages: [a1, a2] })).toMatchObject({ available: 2, lastResort: true });
    expect(await ok(alice, { type: 'kp_count' })).toMatchObject({ type: 'kp_status', available: 2, lastResort: true });
  });

  const badUploads: Array<{ name: string; code: string; make(): Promise<Record<string, unknown>> }> = [
    {
      name: "a KeyPackage of another user's device",
      code: 'KEY_PACKAGE_NOT_YOURS',
      make: async () => ({ keyPackages: await keyPackagesFor('bob', 'phone', 1) }),
    },
    {
      name: 'a KeyPackage of another device of the same user, among good ones',
      code: 'KEY_PACKAGE_NOT_YOURS',
      make: async () => ({
        keyPackages: [...(await keyPackagesFor('alice', 'phone', 2)), ...(await keyPackagesFor('alice', 'laptop', 1))],
      }),
    },
    {
      name: "another user's device as the last-resort package",
      code: 'KEY_PACKAGE_NOT_YOURS',
      make: async () => ({
        keyPackages: await keyPackagesFor('alice', 'phone', 1),
        lastResort: (await keyPackagesFor('bob', 'phone', 1))[0],
      }),
    },
    {
      name: 'bytes that are no MLS message',
      code: 'KEY_PACKAGE_INVALID',
      make: async () => ({ keyPackages: [b64('definitely not a key package')] }),
    },
    { name: 'an empty KeyPackage', code: 'KEY_PACKAGE_INVALID', make: async () => ({ keyPackages: [''] }) },
    {
      name: 'a truncated KeyPackage',
      code: 'KEY_PACKAGE_INVALID',
      make: async () => {
        const [kp] = await keyPackagesFor('alice', 'phone', 1);
        return { keyPackages: [Buffer.from(kp!, 'base64').subarray(0, 200).toString('base64')] };
      },
    },
    {
      name: 'a KeyPackage with trailing bytes',
      code: 'KEY_PACKAGE_INVALID',
      make: async () => {
        const [kp] = await keyPackagesFor('alice', 'phone', 1);
        return { keyPackages: [Buffer.concat([Buffer.from(kp!, 'base64'), Buffer.from([0, 1, 2])]).toString('base64')] };
      },
    },
    {
      name: 'a KeyPackage whose signature does not verify',
      code: 'KEY_PACKAGE_INVALID',
      make: async () => {
        const [kp] = await keyPackagesFor('alice', 'phone', 1);
        const bytes = Buffer.from(kp!, 'base64');
        bytes[bytes.length - 3]! ^= 0x40; // inside the signature, the last field
        return { keyPackages: [bytes.toString('base64')] };
      },
    },
    {
      name: 'a KeyPackage larger than keyPackageBytesMax',
      code: 'KEY_PACKAGE_INVALID',
      make: async () => ({ keyPackages: [Buffer.alloc(5000, 1).toString('base64')] }),
    },
    {
      name: 'more packages than keyPackagesPerUploadMax',
      code: 'INVALID_FIELD',
      make: async () => ({ keyPackages: await keyPackagesFor('alice', 'phone', 5) }),
    },
    { name: 'nothing to upload', code: 'INVALID_FIELD', make: async () => ({ keyPackages: [] }) },
    { name: 'a body that is not base64', code: 'INVALID_FIELD', make: async () => ({ keyPackages: ['***'] }) },
  ];

  for (const bad of badUploads) {
    it(`refuses ${bad.name} with ${bad.code}, storing nothing`, async () => {
      const { w, alice, bob } = await world();
      const error = await fails(alice, { type: 'kp_upload', ...(await bad.make()) });
      expect(error).toMatchObject({ code: bad.code, inReplyTo: 'kp_upload', retryable: false });
      expect(error.message.length).toBeGreaterThan(10);
      for (const [userId, deviceId] of [
        ['alice', 'phone'],
        ['alice', 'laptop'],
        ['bob', 'phone'],
      ] as const) {
        expect(await count(w, userId, deviceId)).toEqual({ available: 0, lastResort: false });
      }
      // The connection still works.
      expect(await ok(bob, { type: 'kp_count' })).toMatchObject({ available: 0 });
      expect(alice.isClosed).toBe(false);
    });
  }

  it('refuses an upload past keyPackagesPerDeviceMax with KEY_PACKAGE_LIMIT, storing none of it', async () => {
    const { w, alice } = await world();
    await ok(alice, { type: 'kp_upload', keyPackages: await keyPackagesFor('alice', 'phone', 4) });
    const error = await fails(alice, { type: 'kp_upload', keyPackages: await keyPackagesFor('alice', 'phone', 3) });
    expect(error).toMatchObject({ code: 'KEY_PACKAGE_LIMIT', retryable: false });
    expect(await count(w, 'alice', 'phone')).toEqual({ available: 4, lastResort: false });
  });
});

describe('kp_claim', () => {
  it('claims one package per device of each user, skipping the caller and the excepted devices', async () => {
    const { w, alice, bob } = await world();
    const bobLaptop = await connectDevice(w, 'bob', 'laptop');
    const aliceTablet = await connectDevice(w, 'alice', 'tablet');
    await ok(bob, { type: 'kp_upload', keyPackages: await keyPackagesFor('bob', 'phone', 2) });
    await ok(bobLaptop, { type: 'kp_upload', keyPackages: await keyPackagesFor('bob', 'laptop', 2) });
    await ok(aliceTablet, { type: 'kp_upload', keyPackages: await keyPackagesFor('alice', 'tablet', 2) });
    const claimed = await ok(alice, {
      type: 'kp_claim',
      userIds: ['alice', 'bob'],
      exceptDevices: [{ userId: 'bob', deviceId: 'laptop' }],
    });
    expect(claimed.type).toBe('kp_claimed');
    if (claimed.type !== 'kp_claimed') return;
    expect(claimed.keyPackages.map((p) => `${p.userId}/${p.deviceId}`).sort()).toEqual(['alice/tablet', 'bob/phone']);
    expect(claimed.keyPackages.every((p) => !p.lastResort)).toBe(true);
    expect(claimed.missing).toEqual([]);
    expect(await count(w, 'bob', 'phone')).toMatchObject({ available: 1 });
    expect(await count(w, 'bob', 'laptop')).toMatchObject({ available: 2 });
  });

  it('lists a device that never uploaded as missing, and refuses unknown users and too many users', async () => {
    const { w, alice } = await world({ keyPackageClaimUsersMax: 2 });
    const missing = await ok(alice, { type: 'kp_claim', userIds: ['bob'] });
    expect(missing).toMatchObject({ keyPackages: [], missing: [{ userId: 'bob', deviceId: 'phone' }] });
    expect(await fails(alice, { type: 'kp_claim', userIds: ['bob', 'nobody'] })).toMatchObject({ code: 'UNKNOWN_USER' });
    await connectDevice(w, 'carol', 'phone');
    expect(await fails(alice, { type: 'kp_claim', userIds: ['bob', 'carol', 'alice'] })).toMatchObject({ code: 'INVALID_FIELD' });
    expect(await fails(alice, { type: 'kp_claim', userIds: [] })).toMatchObject({ code: 'INVALID_FIELD' });
  });

  it('a claim storm empties the pool without handing any single-use package out twice, then serves the last-resort one', async () => {
    const { w, bob } = await world();
    const single = await keyPackagesFor('bob', 'phone', 4);
    const [lastResort] = await keyPackagesFor('bob', 'phone', 1);
    await ok(bob, { type: 'kp_upload', keyPackages: single, lastResort });
    const claimers = await Promise.all(Array.from({ length: 12 }, (_, i) => connectDevice(w, `claimer${i}`, 'phone')));
    const answers = await Promise.all(claimers.map((c) => ok(c, { type: 'kp_claim', userIds: ['bob'] })));
    const handed = answers.flatMap((a) => (a.type === 'kp_claimed' ? a.keyPackages : []));
    expect(handed).toHaveLength(12);
    const singleUse = handed.filter((p) => !p.lastResort).map((p) => p.keyPackage);
    expect(singleUse.sort()).toEqual([...single].sort());
    expect(handed.filter((p) => p.lastResort).map((p) => p.keyPackage)).toEqual(Array(8).fill(lastResort));
    expect(await count(w, 'bob', 'phone')).toEqual({ available: 0, lastResort: true });
    // The owner refills; a retried old upload cannot bring claimed packages back.
    expect(await ok(bob, { type: 'kp_upload', keyPackages: single })).toMatchObject({ available: 0 });
  });

  it('one device storming claims is rate limited before anything is taken', async () => {
    const { w, alice, bob } = await world({ keyPackageClaimsPerMinute: 3 });
    await ok(bob, { type: 'kp_upload', keyPackages: await keyPackagesFor('bob', 'phone', 4) });
    for (let i = 0; i < 3; i++) await ok(alice, { type: 'kp_claim', userIds: ['bob'] });
    const error = await fails(alice, { type: 'kp_claim', userIds: ['bob'] });
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryable: true, inReplyTo: 'kp_claim' });
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(await count(w, 'bob', 'phone')).toMatchObject({ available: 1 });
    await w.clock.advance(error.retryAfterMs!);
    expect(await ok(alice, { type: 'kp_claim', userIds: ['bob'] })).toMatchObject({
      keyPackages: [{ userId: 'bob', deviceId: 'phone', lastResort: false }],
    });
  });

  it("an unlinked device's packages are forgotten", async () => {
    const { w, alice, bob } = await world();
    const bobLaptop = await connectDevice(w, 'bob', 'laptop');
    await ok(bobLaptop, { type: 'kp_upload', keyPackages: await keyPackagesFor('bob', 'laptop', 2) });
    await ok(bob, { type: 'device_unlink', deviceId: 'laptop' });
    expect(await count(w, 'bob', 'laptop')).toEqual({ available: 0, lastResort: false });
    expect(await ok(alice, { type: 'kp_claim', userIds: ['bob'] })).toMatchObject({
      keyPackages: [],
      missing: [{ userId: 'bob', deviceId: 'phone' }],
    });
  });
});

describe('commits in epoch order', () => {
  const DM = directConversationId('alice', 'bob');
  const send = (clientMessageId: string, mls?: { kind: string; epoch: number }) => ({
    type: 'send',
    conversationId: DM,
    clientMessageId,
    body: b64(`opaque ${clientMessageId}`),
    ...(mls ? { mls } : {}),
  });

  it("accepts the first commit of an epoch, refuses the loser with MLS_EPOCH_CONFLICT, and answers the winner's retry as a duplicate", async () => {
    const { w, alice, bob } = await world();
    expect(await ok(alice, send('a-commit-0', { kind: 'commit', epoch: 0 }))).toMatchObject({ type: 'sent', seq: 1, duplicate: false });
    const lost = await fails(bob, send('b-commit-0', { kind: 'commit', epoch: 0 }));
    expect(lost).toMatchObject({ code: 'MLS_EPOCH_CONFLICT', retryable: false, inReplyTo: 'send' });
    expect(lost.message).toContain('epoch 1');
    expect(await fails(bob, send('b-commit-5', { kind: 'commit', epoch: 5 }))).toMatchObject({ code: 'MLS_EPOCH_CONFLICT' });
    expect(await ok(alice, send('a-commit-0', { kind: 'commit', epoch: 0 }))).toMatchObject({ type: 'sent', seq: 1, duplicate: true });
    // Application messages are not held to the epoch (a late one from the previous epoch is fine).
    expect(await ok(bob, send('b-app', { kind: 'application', epoch: 0 }))).toMatchObject({ type: 'sent', seq: 2 });
    expect(await ok(bob, send('b-commit-1', { kind: 'commit', epoch: 1 }))).toMatchObject({ type: 'sent', seq: 3 });
    await settle();
    // The refused commits were not stored.
    const stored = await w.stores.messages.readAfter(DM, 0, 100);
    expect(stored.map((e) => (e.kind === 'message' ? e.clientMessageId : ''))).toEqual(['a-commit-0', 'b-app', 'b-commit-1']);
    expect(await w.stores.groupEpochs.current(DM)).toBe(2);
  });

  it('holds handshakes to mlsHandshakeBytesMax and everything else to messageBytesMax', async () => {
    const { w, alice } = await world({ messageBytesMax: 50_000, mlsHandshakeBytesMax: 100_000 });
    const big = (bytes: number, clientMessageId: string, mls?: { kind: string; epoch: number }) => ({
      type: 'send',
      conversationId: DM,
      clientMessageId,
      body: Buffer.alloc(bytes, 7).toString('base64'),
      ...(mls ? { mls } : {}),
    });
    expect(await ok(alice, big(80_000, 'big-commit', { kind: 'commit', epoch: 0 }))).toMatchObject({ type: 'sent' });
    expect(await fails(alice, big(80_000, 'big-chat'))).toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    expect(await fails(alice, big(80_000, 'big-app', { kind: 'application', epoch: 1 }))).toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    const tooBig = await fails(alice, big(120_000, 'huge-commit', { kind: 'commit', epoch: 1 }));
    expect(tooBig).toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    expect(tooBig.message).toContain('mlsHandshakeBytesMax');
    expect(await w.stores.groupEpochs.current(DM)).toBe(1);
  });

  it('refuses a malformed MLS marker with INVALID_FIELD', async () => {
    const { alice } = await world();
    expect(await fails(alice, send('x1', { kind: 'handshake', epoch: 0 }))).toMatchObject({ code: 'INVALID_FIELD' });
    expect(await fails(alice, send('x2', { kind: 'commit', epoch: -1 }))).toMatchObject({ code: 'INVALID_FIELD' });
  });
});

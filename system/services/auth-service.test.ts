import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { JwtTokenAuthority } from '../adapters/jwt/jwt-token-authority.js';
import { sharedSecretTokenSettings } from '../adapters/jwt/jwt-settings.js';
import { ChatError } from '../core/errors.js';
import { directConversationId } from '../core/ids.js';
import { defaultLimits } from '../core/limits.js';
import { ManualClock } from '../adapters/virtual/manual-clock.js';
import { CloseCodes, PROTOCOL_VERSION } from '../protocol/version.js';
import { connectDevice, createTestWorld, settle } from '../testing/in-process-client.js';
import { EMBEDDED_DEV_SECRET } from '../worlds/embedded-world.js';

const DM = directConversationId('alice', 'bob');

describe('AuthService through sessions', () => {
  it('a valid token links the device and gets a welcome naming it', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone', { rid: 'hello' });
    expect(alice.welcome).toMatchObject({
      type: 'welcome',
      rid: 'hello',
      v: PROTOCOL_VERSION,
      userId: 'alice',
      deviceId: 'phone',
      nodeId: 'node-1',
      serverTimeMs: world.clock.nowMs(),
      heartbeatIntervalMs: world.core.deps.limits.heartbeatIntervalMs,
    });
    expect(alice.welcome?.limits).toMatchObject({ devicesPerUserMax: 5, groupMembersMax: 256 });
    expect(await world.stores.directory.getDevice({ userId: 'alice', deviceId: 'phone' })).toMatchObject({
      linkedAtMs: world.clock.nowMs(),
    });
    expect(await world.stores.directory.userExists('alice')).toBe(true);
  });

  it('issuing a token for a malformed id is INVALID_FIELD', async () => {
    const world = createTestWorld();
    await expect(world.core.auth.issueToken({ userId: 'a b', deviceId: 'x' })).rejects.toThrow(ChatError);
    await expect(world.core.auth.issueToken({ userId: 'a', deviceId: '' })).rejects.toThrow(/device id/);
  });

  it('refuses the (devicesPerUserMax + 1)th device with DEVICE_LIMIT; linked devices still connect', async () => {
    const world = createTestWorld();
    expect(world.core.deps.limits.devicesPerUserMax).toBe(5);
    const devices = [];
    for (let i = 1; i <= 5; i++) devices.push(await connectDevice(world, 'alice', `d${i}`));
    const sixth = await connectDevice(world, 'alice', 'd6', { expectWelcome: false });
    expect(sixth.errors()).toEqual([expect.objectContaining({ code: 'DEVICE_LIMIT', inReplyTo: 'auth' })]);
    expect(sixth.connection.closeCode).toBe(CloseCodes.AUTH_FAILED);
    expect(await world.stores.directory.getDevice({ userId: 'alice', deviceId: 'd6' })).toBeUndefined();
    await devices[0]!.close();
    const again = await connectDevice(world, 'alice', 'd1');
    expect(again.welcome).toBeDefined();
  });

  it('unlinking a device closes its live session, refuses its token and clears its inbox', async () => {
    const world = createTestWorld();
    const phone = await connectDevice(world, 'alice', 'phone');
    const { token: laptopToken } = await world.core.auth.issueToken({ userId: 'alice', deviceId: 'laptop' });
    const laptop = await connectDevice(world, 'alice', 'laptop', { token: laptopToken });
    const bob = await connectDevice(world, 'bob', 'phone');
    await bob.sendMessage(DM, 'before');
    await settle();
    expect(await world.stores.inbox.depth({ userId: 'alice', deviceId: 'laptop' })).toBe(1);

    await phone.requestOk({ type: 'device_unlink', deviceId: 'laptop' }, 'ok');
    await settle();
    expect(laptop.framesOf('goaway')).toEqual([{ type: 'goaway', reason: 'device_unlinked', reconnectAfterMs: 0 }]);
    expect(laptop.isClosed).toBe(true);
    expect(laptop.connection.closeCode).toBe(CloseCodes.DEVICE_UNLINKED);
    expect(await world.stores.inbox.depth({ userId: 'alice', deviceId: 'laptop' })).toBe(0);
    expect((await world.stores.directory.listDevices('alice')).map((d) => d.deviceId)).toEqual(['phone']);
    expect(await world.stores.registry.lookup('alice')).toEqual([expect.objectContaining({ deviceId: 'phone' })]);

    // The old token is dead.
    const refused = await connectDevice(world, 'alice', 'laptop', { token: laptopToken, expectWelcome: false });
    expect(refused.errors()).toEqual([expect.objectContaining({ code: 'DEVICE_UNKNOWN' })]);
    expect(refused.connection.closeCode).toBe(CloseCodes.AUTH_FAILED);

    // Messages no longer queue for it.
    await bob.sendMessage(DM, 'after');
    expect(await world.stores.inbox.depth({ userId: 'alice', deviceId: 'laptop' })).toBe(0);

    // Signing in again (a token issued after the unlink) links it anew.
    await world.clock.advance(1);
    const relinked = await connectDevice(world, 'alice', 'laptop');
    expect(relinked.welcome).toBeDefined();
    expect(relinked.events()).toEqual([]);
    const history = await relinked.requestOk({ type: 'history', conversationId: DM }, 'history_result');
    expect(history.events.map((e) => e.seq)).toEqual([1, 2]);
  });

  it('a device may unlink itself; unlinking an unknown device is DEVICE_UNKNOWN', async () => {
    const world = createTestWorld();
    const phone = await connectDevice(world, 'alice', 'phone');
    expect((await phone.requestError({ type: 'device_unlink', deviceId: 'nope' })).code).toBe('DEVICE_UNKNOWN');
    phone.send({ type: 'device_unlink', rid: 'self', deviceId: 'phone' });
    await settle();
    expect(phone.framesOf('goaway')).toEqual([expect.objectContaining({ reason: 'device_unlinked' })]);
    expect(phone.connection.closeCode).toBe(CloseCodes.DEVICE_UNLINKED);
    expect(await world.stores.directory.listDevices('alice')).toEqual([]);
  });

  it('an unlinked device frees a slot under devicesPerUserMax', async () => {
    const world = createTestWorld({ limits: { devicesPerUserMax: 2 } });
    const d1 = await connectDevice(world, 'alice', 'd1');
    await connectDevice(world, 'alice', 'd2');
    expect((await connectDevice(world, 'alice', 'd3', { expectWelcome: false })).errors()[0]?.code).toBe('DEVICE_LIMIT');
    await d1.requestOk({ type: 'device_unlink', deviceId: 'd2' }, 'ok');
    expect((await connectDevice(world, 'alice', 'd3')).welcome).toBeDefined();
  });

  it('refuses expired, garbled, tampered, foreign-signed and misaddressed tokens', async () => {
    const world = createTestWorld();
    const shortLived = (await world.core.auth.issueToken({ userId: 'alice', deviceId: 'phone' }, 1_000)).token;
    await world.clock.advance(1_000);
    const expired = await connectDevice(world, 'alice', 'phone', { token: shortLived, expectWelcome: false });
    expect(expired.errors()).toEqual([expect.objectContaining({ code: 'TOKEN_EXPIRED', inReplyTo: 'auth', retryable: false })]);
    expect(expired.connection.closeCode).toBe(CloseCodes.AUTH_FAILED);

    const good = (await world.core.auth.issueToken({ userId: 'alice', deviceId: 'phone' })).token;
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'bob' })).toString('base64url');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const issuerOf = (settings: Parameters<typeof sharedSecretTokenSettings>[1]) =>
      new JwtTokenAuthority(sharedSecretTokenSettings(EMBEDDED_DEV_SECRET, settings), new ManualClock(world.clock.nowMs()), defaultLimits);
    const foreign = new JwtTokenAuthority(
      sharedSecretTokenSettings('another-secret-of-sufficient-length'),
      new ManualClock(world.clock.nowMs()),
      defaultLimits,
    );
    const device = { userId: 'alice', deviceId: 'phone' };
    const refused = {
      garbage: 'garbage',
      'two parts': `${header}.${payload}`,
      'forged claims': `${header}.${forged}.${signature}`,
      'cut signature': `${header}.${payload}.${signature.slice(0, -2)}`,
      'alg none': unsigned,
      'another secret': (await foreign.issue(device, 60_000)).token,
      'another audience': (await issuerOf({ audience: 'some-other-service' }).issue(device, 60_000)).token,
      'another issuer': (await issuerOf({ issuer: 'someone-else' }).issue(device, 60_000)).token,
    };
    for (const [what, token] of Object.entries(refused)) {
      const client = await connectDevice(world, 'alice', 'phone', { token, expectWelcome: false });
      expect(
        client.errors().map((e) => [e.code, e.retryable]),
        what,
      ).toEqual([['TOKEN_INVALID', false]]);
      expect(client.connection.closeCode, what).toBe(CloseCodes.AUTH_FAILED);
    }
    expect(await world.stores.directory.userExists('alice')).toBe(false);
    expect(await world.stores.directory.userExists('bob')).toBe(false);
  });

  it('a key set that cannot be fetched is AUTH_UNAVAILABLE (retryable), not a verdict on the token', async () => {
    const { privateKey } = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const world = createTestWorld({
      // Port 9 (discard) on loopback: nothing listens, the fetch fails at once.
      tokens: {
        keys: { algorithm: 'EdDSA', privateKeyPem: privateKey, jwksUrl: 'http://127.0.0.1:9/jwks.json' },
        issuer: 'chatload',
        audience: 'chatload-gateway',
        keyId: 'k1',
      },
    });
    const client = await connectDevice(world, 'alice', 'phone', { expectWelcome: false });
    expect(client.errors()).toEqual([expect.objectContaining({ code: 'AUTH_UNAVAILABLE', retryable: true, inReplyTo: 'auth' })]);
    // Closed as a failure to retry (GOING_AWAY), not AUTH_FAILED, which tells the client to give up.
    expect(client.connection.closeCode).toBe(CloseCodes.GOING_AWAY);
    expect(await world.stores.directory.userExists('alice')).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { ChatError } from '../core/errors.js';
import { directConversationId } from '../core/ids.js';
import { ManualClock } from '../adapters/virtual/manual-clock.js';
import { CloseCodes, PROTOCOL_VERSION } from '../protocol/version.js';
import { connectDevice, createTestWorld, settle } from '../testing/in-process-client.js';
import { TokenService } from './auth-tokens.js';

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
    expect(await world.stores.directory.getDevice({ userId: 'alice', deviceId: 'phone' })).toMatchObject({ linkedAtMs: world.clock.nowMs() });
    expect(await world.stores.directory.userExists('alice')).toBe(true);
  });

  it('issuing a token for a malformed id is INVALID_FIELD', () => {
    const world = createTestWorld();
    expect(() => world.core.auth.issueToken({ userId: 'a b', deviceId: 'x' })).toThrow(ChatError);
    expect(() => world.core.auth.issueToken({ userId: 'a', deviceId: '' })).toThrow(/device id/);
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
    const { token: laptopToken } = world.core.auth.issueToken({ userId: 'alice', deviceId: 'laptop' });
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

  it('refuses expired, garbled, tampered and foreign-signed tokens', async () => {
    const world = createTestWorld();
    const shortLived = world.core.auth.issueToken({ userId: 'alice', deviceId: 'phone' }, 1_000).token;
    await world.clock.advance(1_000);
    const expired = await connectDevice(world, 'alice', 'phone', { token: shortLived, expectWelcome: false });
    expect(expired.errors()).toEqual([expect.objectContaining({ code: 'TOKEN_EXPIRED', inReplyTo: 'auth' })]);
    expect(expired.connection.closeCode).toBe(CloseCodes.AUTH_FAILED);

    const good = world.core.auth.issueToken({ userId: 'alice', deviceId: 'phone' }).token;
    const [prefix, payload, signature] = good.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ u: 'bob', d: 'phone', iat: 0, exp: Number.MAX_SAFE_INTEGER })).toString('base64url');
    const foreign = new TokenService('another-secret-of-sufficient-length', new ManualClock(world.clock.nowMs())).issue({ userId: 'alice', deviceId: 'phone' }, 60_000).token;
    for (const token of ['garbage', 'v1.x', `v2.${payload}.${signature}`, `${prefix}.${forged}.${signature}`, `${prefix}.${payload}.${signature.slice(0, -2)}`, foreign]) {
      const client = await connectDevice(world, 'alice', 'phone', { token, expectWelcome: false });
      expect(client.errors().map((e) => e.code)).toEqual(['TOKEN_INVALID']);
      expect(client.connection.closeCode).toBe(CloseCodes.AUTH_FAILED);
    }
    expect(await world.stores.directory.userExists('alice')).toBe(false);
    expect(await world.stores.directory.userExists('bob')).toBe(false);
  });
});

import { describe, expect, it, vi } from 'vitest';
import { directConversationId } from '../core/ids.js';
import type { PushResult } from '../ports/push-sender.js';
import { connectDevice, createTestWorld, settle, type TestWorld } from '../testing/in-process-client.js';

const DM = directConversationId('alice', 'bob');
const BOB = { userId: 'bob', deviceId: 'phone' };

/** Bob registers a push token, then goes offline; alice stays connected. */
async function setup(world: TestWorld = createTestWorld()) {
  const alice = await connectDevice(world, 'alice', 'phone');
  const bob = await connectDevice(world, 'bob', 'phone');
  await bob.requestOk({ type: 'push_token', token: 'tok-bob' }, 'ok');
  expect((await world.stores.directory.getDevice(BOB))?.pushToken).toBe('tok-bob');
  await bob.close();
  return { world, alice };
}

function pushesTo(world: TestWorld, deviceId = 'phone') {
  return world.push.sent.filter((p) => p.device.userId === 'bob' && p.device.deviceId === deviceId);
}

describe('PushNotifier through sessions', () => {
  it('a burst makes one push at once and one collapsed push with the count after the window', async () => {
    const { world, alice } = await setup();
    for (let i = 1; i <= 20; i++) await alice.sendMessage(DM, `m${i}`);
    await settle();
    expect(pushesTo(world)).toHaveLength(1);
    expect(pushesTo(world)[0]).toMatchObject({
      device: BOB,
      token: 'tok-bob',
      collapseKey: 'chat:bob/phone',
      messageCount: 1,
      conversationIds: [DM],
    });

    const windowMs = world.core.deps.limits.pushCollapseWindowMs;
    await world.clock.advance(windowMs - 1);
    expect(pushesTo(world)).toHaveLength(1);
    await world.clock.advance(1);
    expect(pushesTo(world)).toHaveLength(2);
    expect(pushesTo(world)[1]).toMatchObject({ messageCount: 19, conversationIds: [DM], collapseKey: 'chat:bob/phone' });

    // A quiet window sends nothing more; the next message after it pushes at once again.
    await world.clock.advance(windowMs);
    expect(pushesTo(world)).toHaveLength(2);
    await alice.heartbeat();
    await alice.sendMessage(DM, 'later');
    await settle();
    expect(pushesTo(world)).toHaveLength(3);
    expect(pushesTo(world)[2]).toMatchObject({ messageCount: 1 });
  });

  it('a collapsed push names every conversation of the window', async () => {
    const world = createTestWorld();
    const { alice } = await setup(world);
    const carol = await connectDevice(world, 'carol', 'phone');
    await alice.sendMessage(DM, 'a1');
    await carol.sendMessage(directConversationId('bob', 'carol'), 'c1');
    await alice.sendMessage(DM, 'a2');
    await world.clock.advance(world.core.deps.limits.pushCollapseWindowMs);
    const pushes = pushesTo(world);
    expect(pushes.map((p) => p.messageCount)).toEqual([1, 2]);
    expect(new Set(pushes[1]?.conversationIds)).toEqual(new Set([DM, directConversationId('bob', 'carol')]));
  });

  it('connected devices get no push; a device that connects drops its pending collapsed push', async () => {
    const { world, alice } = await setup();
    await alice.sendMessage(DM, 'm1');
    await alice.sendMessage(DM, 'm2');
    const bob = await connectDevice(world, 'bob', 'phone');
    expect(bob.seqs(DM)).toEqual([1, 2]);
    await alice.sendMessage(DM, 'm3');
    await world.clock.advance(world.core.deps.limits.pushCollapseWindowMs * 2);
    expect(pushesTo(world)).toHaveLength(1);
    expect(world.core.pushNotifier.openWindows).toBe(0);
  });

  it('an "unregistered" answer forgets the token; no more pushes are attempted', async () => {
    const { world, alice } = await setup();
    world.push.unregisteredTokens.add('tok-bob');
    const send = vi.spyOn(world.push, 'send');
    await alice.sendMessage(DM, 'm1');
    await settle();
    expect(send).toHaveBeenCalledTimes(1);
    expect(world.push.sent).toEqual([]);
    expect((await world.stores.directory.getDevice(BOB))?.pushToken).toBeUndefined();
    for (let i = 2; i <= 5; i++) await alice.sendMessage(DM, `m${i}`);
    await world.clock.advance(world.core.deps.limits.pushCollapseWindowMs * 3);
    await alice.heartbeat();
    await alice.sendMessage(DM, 'm6');
    await settle();
    expect(send).toHaveBeenCalledTimes(1);
  });

  it('push_token null removes the token', async () => {
    const world = createTestWorld();
    const alice = await connectDevice(world, 'alice', 'phone');
    const bob = await connectDevice(world, 'bob', 'phone');
    await bob.requestOk({ type: 'push_token', token: 'tok-bob' }, 'ok');
    await bob.requestOk({ type: 'push_token', token: null }, 'ok');
    await bob.close();
    await alice.sendMessage(DM, 'm1');
    await settle();
    expect(world.push.sent).toEqual([]);
  });

  it('a retryable failure is retried after the hinted delay', async () => {
    const { world, alice } = await setup();
    const answers: PushResult[] = [{ outcome: 'retry', retryAfterMs: 3_000 }];
    const original = world.push.send.bind(world.push);
    const send = vi.spyOn(world.push, 'send').mockImplementation(async (n) => answers.shift() ?? original(n));
    await alice.sendMessage(DM, 'm1');
    await settle();
    expect(send).toHaveBeenCalledTimes(1);
    expect(world.push.sent).toEqual([]);
    await world.clock.advance(2_999);
    expect(send).toHaveBeenCalledTimes(1);
    await world.clock.advance(1);
    expect(send).toHaveBeenCalledTimes(2);
    expect(pushesTo(world)).toEqual([expect.objectContaining({ messageCount: 1 })]);
  });
});

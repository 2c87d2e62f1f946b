/**
 * The MLS layer end to end: real gateway (embedded world), real WebSockets, real MLS. Covers 1:1,
 * groups, adding and removing members, a new device joining, a device catching up across several
 * epochs, the race for an epoch, tampering and replay, and encrypted media.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessageEvent } from '../../system/core/events.js';
import type { Session } from '../../system/gateway/session.js';
import type { ServerFrame } from '../../system/protocol/frames.js';
import { directConversationId } from '../../system/core/ids.js';
import { E2E, waitUntil } from '../../e2e/support.js';
import { MlsSessionError, downloadEncryptedMedia, openMedia, sendEncryptedMedia } from './index.js';
import { expectTexts, mlsDevice, offlineSwitch, type MlsDevice } from './testing.js';

let e2e: E2E | undefined;
afterEach(async () => {
  await e2e?.close();
  e2e = undefined;
});

const names = (devices: Array<{ userId: string; deviceId: string }>) => devices.map((d) => `${d.userId}/${d.deviceId}`).sort();

/** The stored events of a conversation (what the server holds), messages only. */
async function storedMessages(t: E2E, conversationId: string): Promise<ChatMessageEvent[]> {
  const events = await t.server.world.stores.messages.readAfter(conversationId, 0, 10_000);
  return events.filter((e): e is ChatMessageEvent => e.kind === 'message');
}

async function openError(device: MlsDevice, event: ChatMessageEvent): Promise<string> {
  const failure = await device.session.open(event).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failure, 'the session should refuse the message').toBeInstanceOf(MlsSessionError);
  return (failure as MlsSessionError).code;
}

describe('MLS sessions end to end', () => {
  it("1:1: both users and the sender's other device read every message", async () => {
    e2e = await E2E.start();
    const alice = await mlsDevice(e2e, 'alice', 'phone');
    const aliceLaptop = await mlsDevice(e2e, 'alice', 'laptop');
    const bob = await mlsDevice(e2e, 'bob', 'phone');
    const dm = directConversationId('alice', 'bob');
    await alice.session.send(dm, { text: 'hello bob' });
    await bob.session.send(dm, { text: 'hi alice' });
    await alice.session.send(dm, { text: 'how are you' });
    await expectTexts(bob, dm, ['hello bob', 'how are you']);
    await expectTexts(aliceLaptop, dm, ['hello bob', 'hi alice', 'how are you']);
    await expectTexts(alice, dm, ['hi alice']);
    expect(names(alice.session.members(dm))).toEqual(['alice/laptop', 'alice/phone', 'bob/phone']);
    for (const d of [alice, aliceLaptop, bob]) expect(d.rejected).toEqual([]);
    // The server holds MLS envelopes, not the text.
    for (const event of await storedMessages(e2e, dm))
      expect(Buffer.from(event.bodyBase64, 'base64').toString('latin1')).not.toMatch(/hello bob|hi alice|how are you/);
  });

  it('a burst of concurrent sends is encrypted and read in order, in a 1:1 and a group', async () => {
    e2e = await E2E.start();
    const alice = await mlsDevice(e2e, 'alice', 'phone');
    const bob = await mlsDevice(e2e, 'bob', 'phone');
    const carol = await mlsDevice(e2e, 'carol', 'phone');
    const dm = directConversationId('alice', 'bob');
    const group = await alice.session.createGroup('burst', ['bob', 'carol']);
    const texts = Array.from({ length: 12 }, (_, i) => `burst ${i}`);
    const results = await Promise.all([
      ...texts.map((text) => alice.session.send(dm, { text })),
      ...texts.map((text) => alice.session.send(group, { text })),
    ]);
    expect(new Set(results.map((r) => `${r.conversationId}#${r.seq}`)).size).toBe(24);
    await expectTexts(bob, dm, texts);
    await expectTexts(bob, group, texts);
    await expectTexts(carol, group, texts);
    expect([...bob.rejected, ...carol.rejected]).toEqual([]);
  });

  it('two devices founding the same 1:1 group at once: one commit wins, the other joins by its Welcome', async () => {
    e2e = await E2E.start();
    const alice = await mlsDevice(e2e, 'alice', 'phone');
    const bob = await mlsDevice(e2e, 'bob', 'phone');
    const dm = directConversationId('alice', 'bob');
    await Promise.all([alice.session.send(dm, { text: 'from alice' }), bob.session.send(dm, { text: 'from bob' })]);
    await expectTexts(bob, dm, ['from alice']);
    await expectTexts(alice, dm, ['from bob']);
    expect(alice.session.epoch(dm)).toBe(bob.session.epoch(dm));
    // Exactly one founding commit reached the log.
    const commits = (await storedMessages(e2e, dm)).filter((e) => Buffer.from(e.bodyBase64, 'base64')[1] === 0x63);
    expect(commits).toHaveLength(1);
  });

  it('group: members read each other; an added member reads from its addition; a removed one cannot read what follows', async () => {
    e2e = await E2E.start();
    const alice = await mlsDevice(e2e, 'alice', 'phone');
    const bob = await mlsDevice(e2e, 'bob', 'phone');
    const carol = await mlsDevice(e2e, 'carol', 'phone');
    const dave = await mlsDevice(e2e, 'dave', 'phone');
    const group = await alice.session.createGroup('hike', ['bob', 'carol']);
    await alice.session.send(group, { text: 'g1' });
    await waitUntil(() => bob.session.epoch(group) !== undefined && carol.session.epoch(group) !== undefined, 'bob and carol to join');
    await bob.session.send(group, { text: 'g2' });
    await expectTexts(carol, group, ['g1', 'g2']);

    await alice.session.addMembers(group, ['dave']);
    await alice.session.send(group, { text: 'g3 (dave is in)' });
    await expectTexts(dave, group, ['g3 (dave is in)']);
    await expectTexts(carol, group, ['g1', 'g2', 'g3 (dave is in)']);
    expect(names(alice.session.members(group))).toEqual(['alice/phone', 'bob/phone', 'carol/phone', 'dave/phone']);

    const epochBefore = carol.session.epoch(group)!;
    await alice.session.removeMember(group, 'carol');
    await waitUntil(
      () => (bob.session.epoch(group) ?? 0) > epochBefore && (dave.session.epoch(group) ?? 0) > epochBefore,
      'bob and dave to apply the removal',
    );
    await dave.session.send(group, { text: 'g4 (carol is out)' });
    await expectTexts(bob, group, ['g1', 'g3 (dave is in)', 'g4 (carol is out)']); // g2 is his own
    expect(names(bob.session.members(group))).toEqual(['alice/phone', 'bob/phone', 'dave/phone']);

    // The server no longer sends carol anything; even handed the ciphertext, her session cannot open it.
    const after = (await storedMessages(e2e, group)).at(-1)!;
    expect(await openError(carol, after)).toBe('DECRYPT_FAILED');
    expect(carol.texts(group)).toEqual(['g1', 'g2', 'g3 (dave is in)']);
  });

  it('a group founded with more devices than fit one commit is completed before the first message', async () => {
    e2e = await E2E.start();
    const t = e2e;
    const opts = { addsPerCommitMax: 2 };
    const alice = await mlsDevice(t, 'alice', 'phone', opts);
    const others = await Promise.all(['bob', 'carol', 'dave', 'erin', 'frank'].map((u) => mlsDevice(t, u, 'phone', opts)));
    const group = await alice.session.createGroup('big', ['bob', 'carol', 'dave', 'erin', 'frank']);
    expect(alice.session.epoch(group)).toBe(3); // 5 devices in commits of 2, 2 and 1
    await alice.session.send(group, { text: 'everyone' });
    for (const device of others) await expectTexts(device, group, ['everyone']);
  });

  it('a new device of a member asks to join and is added by a member; it reads what follows', async () => {
    e2e = await E2E.start();
    const alice = await mlsDevice(e2e, 'alice', 'phone');
    const bob = await mlsDevice(e2e, 'bob', 'phone');
    const dm = directConversationId('alice', 'bob');
    await alice.session.send(dm, { text: 'before the tablet' });
    await expectTexts(bob, dm, ['before the tablet']);

    const tablet = await mlsDevice(e2e, 'alice', 'tablet');
    await waitUntil(() => tablet.session.epoch(dm) !== undefined, 'the tablet to be welcomed into the 1:1 group', 10_000);
    await bob.session.send(dm, { text: 'after the tablet' });
    await expectTexts(tablet, dm, ['after the tablet']);
    await expectTexts(alice, dm, ['after the tablet']);
    expect(names(bob.session.members(dm))).toEqual(['alice/phone', 'alice/tablet', 'bob/phone']);
    expect([...alice.errors, ...bob.errors]).toEqual([]);
  });

  it('a device offline across several epochs catches up in order', async () => {
    e2e = await E2E.start();
    const alice = await mlsDevice(e2e, 'alice', 'phone');
    const gate = offlineSwitch(e2e, 'bob', 'laptop');
    const bobLaptop = await mlsDevice(e2e, 'bob', 'laptop', {}, gate.clientOptions);
    await mlsDevice(e2e, 'carol', 'phone');
    await mlsDevice(e2e, 'dave', 'phone');
    const group = await alice.session.createGroup('team', ['bob']);
    await alice.session.send(group, { text: 'm1' });
    await expectTexts(bobLaptop, group, ['m1']);
    const epochAtDeparture = bobLaptop.session.epoch(group)!;

    gate.offline();
    await alice.session.addMembers(group, ['carol']);
    await alice.session.send(group, { text: 'm2' });
    await alice.session.addMembers(group, ['dave']);
    await alice.session.send(group, { text: 'm3' });
    await alice.session.removeMember(group, 'carol');
    await alice.session.send(group, { text: 'm4' });
    expect(alice.session.epoch(group)).toBe(epochAtDeparture + 3);

    gate.online();
    await expectTexts(bobLaptop, group, ['m1', 'm2', 'm3', 'm4']);
    expect(bobLaptop.session.epoch(group)).toBe(epochAtDeparture + 3);
    expect(bobLaptop.received.map((m) => m.epoch)).toEqual([
      epochAtDeparture,
      epochAtDeparture + 1,
      epochAtDeparture + 2,
      epochAtDeparture + 3,
    ]);
    expect(bobLaptop.rejected).toEqual([]);
  });

  it('refuses a modified ciphertext, a replay into another conversation or into its own, and a forged sender or id', async () => {
    e2e = await E2E.start();
    const alice = await mlsDevice(e2e, 'alice', 'phone');
    const bob = await mlsDevice(e2e, 'bob', 'phone');
    await mlsDevice(e2e, 'carol', 'phone');
    const dmAB = directConversationId('alice', 'bob');
    const dmBC = directConversationId('bob', 'carol');
    await alice.session.send(dmAB, { text: 'ab 1' });
    await expectTexts(bob, dmAB, ['ab 1']);
    await bob.session.send(dmBC, { text: 'bc 1' }); // bob is in both groups

    // A byte flipped in flight (by the server or the network): the recipient's SDK refuses it.
    const toBob = (frame: ServerFrame, session: Session) =>
      frame.type === 'event' && frame.event.kind === 'message' && frame.event.conversationId === dmAB && session.device?.userId === 'bob';
    e2e.tap.outgoing = (frame, session) => {
      if (toBob(frame, session) && frame.type === 'event' && frame.event.kind === 'message') {
        const body = Buffer.from(frame.event.bodyBase64, 'base64');
        body[body.length - 5]! ^= 0x01;
        frame.event.bodyBase64 = body.toString('base64');
      }
      return true;
    };
    await alice.session.send(dmAB, { text: 'ab 2 (tampered)' });
    await waitUntil(() => bob.rejected.length === 1, 'bob to refuse the tampered message');
    expect(bob.rejected[0]).toMatchObject({ conversationId: dmAB, code: 'DECRYPT_FAILED', senderUserId: 'alice' });
    expect(bob.texts(dmAB)).toEqual(['ab 1']);

    // The next message never reaches bob live; we hand it to his session ourselves, altered.
    e2e.tap.outgoing = (frame, session) => !toBob(frame, session);
    const sent = await alice.session.send(dmAB, { text: 'ab 3' });
    e2e.tap.outgoing = undefined;
    const stored = (await storedMessages(e2e, dmAB)).find((e) => e.seq === sent.seq)!;
    expect(await openError(bob, { ...stored, conversationId: dmBC, seq: 99 })).toBe('WRONG_GROUP');
    expect(await openError(bob, { ...stored, senderDeviceId: 'laptop' })).toBe('SENDER_MISMATCH');
    expect(await openError(bob, { ...stored, senderUserId: 'carol' })).toBe('SENDER_MISMATCH');
    expect(await openError(bob, { ...stored, clientMessageId: 'another-id' })).toBe('SENDER_MISMATCH');
    // None of that spent the message's key: the genuine one opens, once.
    expect((await bob.session.open(stored))?.text).toBe('ab 3');
    expect(await openError(bob, { ...stored, seq: stored.seq + 1 })).toBe('DECRYPT_FAILED');
    expect(await openError(bob, { ...stored, bodyBase64: Buffer.from('not an envelope').toString('base64') })).toBe('BAD_ENVELOPE');
  });
});

describe('encrypted media', () => {
  it('uploads only ciphertext; the recipient checks the digest and decrypts', async () => {
    e2e = await E2E.start();
    const alice = await mlsDevice(e2e, 'alice', 'phone');
    const bob = await mlsDevice(e2e, 'bob', 'phone');
    const dm = directConversationId('alice', 'bob');
    const photo = Buffer.from('PNG-PLAINTEXT-MARKER '.repeat(200));
    await sendEncryptedMedia(alice.session, dm, photo, 'image/png', { caption: 'look' });
    await waitUntil(() => bob.received.length === 1, 'bob to receive the media message');
    const message = bob.received[0]!;
    expect(message.text).toBe('look');
    expect(message.media).toMatchObject({ contentType: 'image/png', sizeBytes: photo.byteLength });
    const bytes = await downloadEncryptedMedia(bob.client, dm, message.media!);
    expect(Buffer.from(bytes).equals(photo)).toBe(true);

    // What the object store holds is not the photo.
    const stored = await (await fetch((await bob.client.requestDownload(dm, message.media!.objectKey)).url)).arrayBuffer();
    expect(Buffer.from(stored).includes(Buffer.from('PNG-PLAINTEXT-MARKER'))).toBe(false);
    // Altered bytes fail the digest check with a clear code.
    const altered = new Uint8Array(stored);
    altered[10]! ^= 0xff;
    await expect(openMedia(altered, message.media!)).rejects.toMatchObject({ code: 'MEDIA_DIGEST_MISMATCH' });
  });
});

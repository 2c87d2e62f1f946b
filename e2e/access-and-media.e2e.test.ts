/**
 * End to end over real WebSockets: membership is enforced on every path (send, sync, history,
 * live delivery, media), and media travels by signed URL with its bytes intact.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  directConversationId,
  downloadMedia,
  sha256Base64,
  uploadHeaders,
  uploadMedia,
  type ChatClientError,
  type FetchLike,
} from '../sdk/index.js';
import { E2E, waitUntil, type TestClient } from './support.js';

let t: E2E | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const devicesOf = (...clients: TestClient[]) => clients.map(({ userId, deviceId }) => ({ userId, deviceId }));

/** The error code a promise rejects with (fails the test if it resolves). */
async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as ChatClientError).code;
  }
  throw new Error('expected the request to fail');
}

describe('e2e: a non-member can neither send nor read', () => {
  it('gets NOT_A_MEMBER on send, sync, history and receipts, and no event of the conversation', async () => {
    t = await E2E.start();
    const alice = await t.connect('alice', 'phone');
    const bob = await t.connect('bob', 'phone');
    const mallory = await t.connect('mallory', 'phone');
    const group = await alice.client.createGroup('private', ['bob']);
    const dm = directConversationId('alice', 'bob');
    await alice.client.send(group.conversationId, 'secret plan');
    await alice.client.send(dm, 'secret dm');

    for (const id of [group.conversationId, dm]) {
      expect(await codeOf(mallory.client.send(id, 'let me in'))).toBe('NOT_A_MEMBER');
      expect(await codeOf(mallory.client.sync(id, 0))).toBe('NOT_A_MEMBER');
      expect(await codeOf(mallory.client.history(id))).toBe('NOT_A_MEMBER');
      expect(await codeOf(mallory.client.receipts(id))).toBe('NOT_A_MEMBER');
      expect(await codeOf(mallory.client.requestUpload(id, 10, 'image/png', await sha256Base64(new Uint8Array(10))))).toBe('NOT_A_MEMBER');
    }
    expect(await codeOf(mallory.client.addMembers(group.conversationId, ['mallory']))).toMatch(/^NOT_A/);

    // Traffic after the attempts: members get it, mallory gets nothing of it.
    const after = await bob.client.send(group.conversationId, 'still secret');
    await alice.client.send(dm, 'also secret');
    await waitUntil(
      () => alice.client.getCursor(group.conversationId) === after.seq && bob.client.getCursor(dm) === 2,
      'members to get the traffic',
    );
    // A message mallory is owed, sent after everything else, arrives: the connection is healthy.
    const toMallory = directConversationId('alice', 'mallory');
    const probe = await alice.client.send(toMallory, 'hi mallory');
    await waitUntil(() => mallory.client.getCursor(toMallory) === probe.seq, 'mallory to get her own message');
    expect(mallory.delivered.map((d) => d.event.conversationId)).toEqual([toMallory]);
    // Nothing of theirs was ever queued for her either (her own message may await her ack).
    const queued = await t.server.world.stores.inbox.list({ userId: 'mallory', deviceId: 'phone' }, 100);
    expect(queued.every((e) => e.conversationId === toMallory)).toBe(true);
    expect(mallory.client.getCursor(group.conversationId)).toBeUndefined();

    t.quiesce(devicesOf(alice, bob, mallory));
    t.expectNoViolations();
  });

  it('a removed member keeps read access to its own span only and receives nothing after it', async () => {
    t = await E2E.start();
    const alice = await t.connect('alice', 'phone');
    const dave = await t.connect('dave', 'phone');
    const group = await alice.client.createGroup('club', []);
    const id = group.conversationId;
    await alice.client.send(id, 'before dave');
    const added = await alice.client.addMembers(id, ['dave']);
    await alice.client.send(id, 'with dave');
    const removed = await alice.client.removeMember(id, 'dave');
    await waitUntil(() => dave.client.getCursor(id) === removed.seq, 'dave to see his removal');
    const afterRemoval = await alice.client.send(id, 'after dave');

    expect(await codeOf(dave.client.send(id, 'am I still here?'))).toBe('NOT_A_MEMBER');
    const page = await dave.client.sync(id, 0);
    expect(page.events.map((e) => e.seq)).toEqual([added.seq, added.seq + 1, removed.seq]);
    expect(page.lastSeq).toBe(afterRemoval.seq);
    const history = await dave.client.history(id);
    expect(history.events.map((e) => e.seq)).toEqual([added.seq, added.seq + 1, removed.seq]);
    expect(dave.seqs(id)).toEqual([added.seq, added.seq + 1, removed.seq]);

    t.quiesce(devicesOf(alice, dave));
    t.expectNoViolations();
  });
});

describe('e2e: a retry does not leak a message to members who joined after it', () => {
  it('the duplicate of a pre-join message is not queued for the newcomer (who was offline meanwhile)', async () => {
    t = await E2E.start();
    const alice = await t.connect('alice', 'phone');
    const bob = await t.connect('bob', 'phone');
    const dave = await t.connect('dave', 'phone');
    dave.client.close();
    const group = await alice.client.createGroup('before-and-after', ['bob']);
    const id = group.conversationId;

    const first = await alice.client.send(id, 'not for dave', { clientMessageId: 'pre-join' });
    const added = await alice.client.addMembers(id, ['dave']);
    // The app retries the same message (it never trusted the first ack, say): a duplicate.
    const retry = await alice.client.send(id, 'not for dave', { clientMessageId: 'pre-join' });
    expect(retry).toMatchObject({ seq: first.seq, duplicate: true });
    const pending = await t.server.world.stores.inbox.list({ userId: 'dave', deviceId: 'phone' }, 100);
    expect(pending.map((e) => e.seq)).toEqual([added.seq]);

    // Dave comes back on a fresh client (no cursor for the group): his inbox starts at his join.
    const dave2 = await t.connect('dave', 'phone');
    const after = await bob.client.send(id, 'hello dave');
    await waitUntil(() => dave2.client.getCursor(id) === after.seq, 'dave to get the message after his join');
    expect(dave2.seqs(id)).toEqual([added.seq, after.seq]);
    await waitUntil(() => alice.client.getCursor(id) === after.seq, "alice to get bob's message");

    t.quiesce(devicesOf(alice, bob, dave2));
    t.expectNoViolations();
  });
});

describe('e2e: media', () => {
  it('upload by signed URL, send with the media ref, the recipient downloads identical bytes; a non-member gets no URL', async () => {
    t = await E2E.start();
    const alice = await t.connect('alice', 'phone');
    const bob = await t.connect('bob', 'phone');
    const carol = await t.connect('carol', 'phone');
    const dm = directConversationId('alice', 'bob');
    const bytes = new Uint8Array(randomBytes(48 * 1024));

    const ref = await uploadMedia(alice.client, dm, bytes, 'image/png');
    expect(ref).toMatchObject({ contentType: 'image/png', sizeBytes: bytes.byteLength });
    expect(ref.objectKey.startsWith(`m/${dm}/`)).toBe(true);
    const sent = await alice.client.send(dm, 'look at this', { media: ref });

    await waitUntil(() => bob.client.getCursor(dm) === sent.seq, 'bob to get the photo message');
    const event = bob.delivered.at(-1)!.event;
    expect(event.kind === 'message' && event.media).toEqual(ref);
    const downloaded = await downloadMedia(bob.client, dm, ref.objectKey);
    expect(Buffer.from(downloaded).equals(Buffer.from(bytes))).toBe(true);
    // The sender can fetch it again too.
    expect((await downloadMedia(alice.client, dm, ref.objectKey)).byteLength).toBe(bytes.byteLength);

    // Carol was never in the conversation: no download URL, under its own id or under hers.
    expect(await codeOf(carol.client.requestDownload(dm, ref.objectKey))).toBe('NOT_A_MEMBER');
    const carolDm = directConversationId('alice', 'carol');
    await alice.client.send(carolDm, 'hi carol');
    expect(await codeOf(carol.client.requestDownload(carolDm, ref.objectKey))).toBe('MEDIA_NOT_FOUND');
    expect(carol.delivered.every((d) => d.event.conversationId === carolDm)).toBe(true);

    // A signed URL is bound to its method: the upload URL does not serve the bytes.
    const upload = await alice.client.requestUpload(dm, 4, 'image/png', await sha256Base64(new Uint8Array(4)));
    const forged = await fetch(upload.url, { method: 'GET' });
    expect(forged.status).toBe(403);

    await waitUntil(() => carol.client.getCursor(carolDm) === 1, 'carol to get her message');
    t.quiesce(devicesOf(alice, bob, carol));
    t.expectNoViolations();
  });
});

describe('e2e: sent media is immutable', () => {
  it('after the send, a PUT of other bytes to the still-valid upload URL is refused and the recipient gets the original bytes', async () => {
    t = await E2E.start();
    const alice = await t.connect('alice', 'phone');
    const bob = await t.connect('bob', 'phone');
    const dm = directConversationId('alice', 'bob');
    const original = new Uint8Array(randomBytes(32 * 1024));
    const replacement = new Uint8Array(randomBytes(original.byteLength));

    // uploadMedia as is, but keeping the signed URL the way a misbehaving client would.
    let uploadUrl = '';
    const keepUrl: FetchLike = (url, init) => {
      if (init.method === 'PUT') uploadUrl = url;
      return (globalThis.fetch as unknown as FetchLike)(url, init);
    };
    const ref = await uploadMedia(alice.client, dm, original, 'image/png', { fetch: keepUrl });
    const sent = await alice.client.send(dm, 'the real picture', { media: ref });
    expect(uploadUrl).not.toBe('');

    // The URL is still valid (mediaUrlTtlMs), but nothing goes through it any more: not with
    // the declared checksum, not with the replacement's own, not without the headers at all.
    const declaredHeaders = uploadHeaders('image/png', await sha256Base64(original));
    const statuses = [
      await put(uploadUrl, replacement, declaredHeaders),
      await put(uploadUrl, replacement, uploadHeaders('image/png', await sha256Base64(replacement))),
      await put(uploadUrl, replacement, { 'Content-Type': 'image/png' }),
      await put(uploadUrl, original, declaredHeaders),
    ];
    expect(statuses).toEqual([412, 403, 403, 412]);

    await waitUntil(() => bob.client.getCursor(dm) === sent.seq, 'bob to get the picture message');
    const downloaded = await downloadMedia(bob.client, dm, ref.objectKey);
    expect(Buffer.from(downloaded).equals(Buffer.from(original))).toBe(true);

    t.quiesce(devicesOf(alice, bob));
    t.expectNoViolations();
  });

  it('an upload of other bytes than the declared checksum is refused, and a send pointing at it finds nothing', async () => {
    t = await E2E.start();
    const alice = await t.connect('alice', 'phone');
    const bob = await t.connect('bob', 'phone');
    const dm = directConversationId('alice', 'bob');
    const declared = new Uint8Array(randomBytes(4096));
    const actual = new Uint8Array(randomBytes(4096));

    const upload = await alice.client.requestUpload(dm, declared.byteLength, 'image/png', await sha256Base64(declared));
    // Other bytes: BadDigest, whether the PUT carries the declared checksum or the bytes' own.
    expect(await put(upload.url, actual, uploadHeaders('image/png', await sha256Base64(declared)))).toBe(400);
    expect(await put(upload.url, actual, uploadHeaders('image/png', await sha256Base64(actual)))).toBe(403);
    const media = { objectKey: upload.objectKey, contentType: 'image/png', sizeBytes: declared.byteLength };
    expect(await codeOf(alice.client.send(dm, 'not there', { media }))).toBe('MEDIA_NOT_FOUND');

    // The declared bytes go through, and then the message can be sent.
    expect(await put(upload.url, declared, uploadHeaders('image/png', await sha256Base64(declared)))).toBe(200);
    const sent = await alice.client.send(dm, 'there now', { media });
    await waitUntil(() => bob.client.getCursor(dm) === sent.seq, 'bob to get the message');
    expect(Buffer.from(await downloadMedia(bob.client, dm, upload.objectKey)).equals(Buffer.from(declared))).toBe(true);

    t.quiesce(devicesOf(alice, bob));
    t.expectNoViolations();
  });
});

async function put(url: string, bytes: Uint8Array, headers: Record<string, string>): Promise<number> {
  const response = await fetch(url, { method: 'PUT', body: new Uint8Array(bytes), headers });
  await response.arrayBuffer();
  return response.status;
}

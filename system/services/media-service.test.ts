import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { directConversationId } from '../core/ids.js';
import { b64, connectDevice, createTestWorld, settle, type TestWorld } from '../testing/in-process-client.js';

const DM = directConversationId('alice', 'bob');

function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('base64');
}
/** A well-formed checksum, for requests whose bytes never get uploaded. */
const ANY_SHA256 = sha256('');

/** The headers of a PUT to a content-bound upload URL (docs/protocol.md, section 7.7). */
function uploadHeaders(contentType: string, checksum: string): Record<string, string> {
  return { 'content-type': contentType, 'x-amz-checksum-sha256': checksum, 'if-none-match': '*' };
}

/** Plays an HTTP client against the embedded media store's handler (no socket). */
function http(
  world: TestWorld,
  method: 'PUT' | 'GET',
  url: string,
  body?: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Buffer }> {
  const parsed = new URL(url);
  const req = Readable.from(body ? [body] : []) as unknown as IncomingMessage;
  Object.assign(req, { url: parsed.pathname + parsed.search, method, headers });
  return new Promise((resolve) => {
    let status = 0;
    const res = {
      headersSent: false,
      writeHead(code: number) {
        status = code;
        this.headersSent = true;
        return this;
      },
      end(chunk?: Buffer | string) {
        resolve({ status, body: Buffer.from(chunk ?? '') });
      },
    };
    expect(world.blobs.handleHttp(req, res as unknown as ServerResponse)).toBe(true);
  });
}

async function setup(limits = {}) {
  const world = createTestWorld({ limits });
  const alice = await connectDevice(world, 'alice', 'phone');
  const bob = await connectDevice(world, 'bob', 'phone');
  const mallory = await connectDevice(world, 'mallory', 'phone');
  return { world, alice, bob, mallory };
}

describe('MediaService through sessions', () => {
  it('signs an upload URL for members, with a key scoped to the conversation', async () => {
    const { world, alice } = await setup();
    const signed = await alice.requestOk(
      { type: 'media_upload', conversationId: DM, sizeBytes: 1234, contentType: 'image/png', sha256: ANY_SHA256 },
      'media_url',
    );
    expect(signed.method).toBe('PUT');
    expect(signed.objectKey).toMatch(/^m\/dm:alice:bob\/[0-9a-f]{32}$/);
    expect(signed.expiresAtMs).toBe(world.clock.nowMs() + world.core.deps.limits.mediaUrlTtlMs);
  });

  it('refuses uploads above mediaBytesMax, of disallowed types, or by non-members', async () => {
    const { world, alice, mallory } = await setup({ mediaBytesMax: 1_000 });
    await alice.requestOk(
      { type: 'media_upload', conversationId: DM, sizeBytes: 1_000, contentType: 'image/png', sha256: ANY_SHA256 },
      'media_url',
    );
    const tooLarge = await alice.requestError({
      type: 'media_upload',
      conversationId: DM,
      sizeBytes: 1_001,
      contentType: 'image/png',
      sha256: ANY_SHA256,
    });
    expect(tooLarge).toMatchObject({ code: 'MEDIA_TOO_LARGE', inReplyTo: 'media_upload', retryable: false });
    const badType = await alice.requestError({
      type: 'media_upload',
      conversationId: DM,
      sizeBytes: 10,
      contentType: 'text/html',
      sha256: ANY_SHA256,
    });
    expect(badType.code).toBe('MEDIA_TYPE_NOT_ALLOWED');
    const stranger = await mallory.requestError({
      type: 'media_upload',
      conversationId: DM,
      sizeBytes: 10,
      contentType: 'image/png',
      sha256: ANY_SHA256,
    });
    expect(stranger.code).toBe('NOT_A_MEMBER');
    const { conversationId: group } = await alice.requestOk({ type: 'group_create', name: 'g', members: ['bob'] }, 'group_result');
    expect(
      (
        await mallory.requestError({
          type: 'media_upload',
          conversationId: group,
          sizeBytes: 10,
          contentType: 'image/png',
          sha256: ANY_SHA256,
        })
      ).code,
    ).toBe('NOT_A_MEMBER');
    expect(world.stores.messages.allEvents().next().value?.kind).toBe('membership');
  });

  it('a send with a media ref that was never uploaded is MEDIA_NOT_FOUND and stores nothing', async () => {
    const { world, alice, bob } = await setup();
    const signed = await alice.requestOk(
      { type: 'media_upload', conversationId: DM, sizeBytes: 5, contentType: 'image/png', sha256: ANY_SHA256 },
      'media_url',
    );
    const error = await alice.requestError({
      type: 'send',
      conversationId: DM,
      clientMessageId: 'pic',
      body: b64('key'),
      media: { objectKey: signed.objectKey, contentType: 'image/png', sizeBytes: 5 },
    });
    expect(error.code).toBe('MEDIA_NOT_FOUND');
    expect(await world.stores.messages.lastSeq(DM)).toBe(0);
    await settle();
    expect(bob.events()).toEqual([]);
  });

  it('upload, send, download: the whole media flow, and its refusals', async () => {
    const { world, alice, bob, mallory } = await setup();
    const bytes = Buffer.from('encrypted picture bytes');
    const up = await alice.requestOk(
      { type: 'media_upload', conversationId: DM, sizeBytes: bytes.length, contentType: 'image/jpeg', sha256: sha256(bytes) },
      'media_url',
    );
    expect((await http(world, 'PUT', up.url, bytes, uploadHeaders('image/jpeg', sha256(bytes)))).status).toBe(200);

    const media = { objectKey: up.objectKey, contentType: 'image/jpeg', sizeBytes: bytes.length };
    // The size must match what was stored.
    const wrongSize = await alice.requestError({
      type: 'send',
      conversationId: DM,
      clientMessageId: 'p0',
      body: b64('k'),
      media: { ...media, sizeBytes: 3 },
    });
    expect(wrongSize.code).toBe('MEDIA_NOT_FOUND');
    const sent = await alice.requestOk({ type: 'send', conversationId: DM, clientMessageId: 'p1', body: b64('k'), media }, 'sent');
    expect(sent.seq).toBe(1);
    await settle();
    expect(bob.events(DM)[0]).toMatchObject({ kind: 'message', media });

    const down = await bob.requestOk({ type: 'media_download', conversationId: DM, objectKey: up.objectKey }, 'media_url');
    expect(down.method).toBe('GET');
    const fetched = await http(world, 'GET', down.url);
    expect(fetched.status).toBe(200);
    expect(fetched.body.equals(bytes)).toBe(true);

    // Strangers cannot download, and a key cannot be used through another conversation.
    expect((await mallory.requestError({ type: 'media_download', conversationId: DM, objectKey: up.objectKey })).code).toBe('NOT_A_MEMBER');
    const malloryDm = directConversationId('alice', 'mallory');
    expect((await mallory.requestError({ type: 'media_download', conversationId: malloryDm, objectKey: up.objectKey })).code).toBe(
      'MEDIA_NOT_FOUND',
    );
    const stolen = await alice.requestError({ type: 'send', conversationId: malloryDm, clientMessageId: 'p2', body: b64('k'), media });
    expect(stolen.code).toBe('MEDIA_NOT_FOUND');
    expect(await world.stores.messages.lastSeq(malloryDm)).toBe(0);
  });

  it('media_upload needs the SHA-256 of the bytes, base64, and the URL then takes those bytes only, once', async () => {
    const { world, alice, bob } = await setup();
    const frame = { type: 'media_upload', conversationId: DM, sizeBytes: 5, contentType: 'image/png' } as const;
    expect((await alice.requestError(frame)).code).toBe('INVALID_FIELD');
    for (const bad of [
      '',
      'abc',
      createHash('sha256').update('x').digest('hex'),
      createHash('sha1').update('x').digest('base64'),
      ANY_SHA256.replace('=', 'A'),
      `${ANY_SHA256.slice(0, 42)}V=`,
    ]) {
      expect((await alice.requestError({ ...frame, sha256: bad })).code, bad).toBe('INVALID_FIELD');
    }

    const original = Buffer.from('12345');
    const other = Buffer.from('54321');
    const up = await alice.requestOk({ ...frame, sha256: sha256(original) }, 'media_url');
    // Other bytes of the same size: refused, whether they claim the declared checksum or their own.
    expect(await http(world, 'PUT', up.url, other, uploadHeaders('image/png', sha256(original)))).toMatchObject({ status: 400 });
    expect(await http(world, 'PUT', up.url, other, uploadHeaders('image/png', sha256(other)))).toMatchObject({ status: 403 });
    expect(await http(world, 'PUT', up.url, original, { 'content-type': 'image/png' })).toMatchObject({ status: 403 });
    expect(await world.blobs.stat(up.objectKey)).toBeUndefined();
    expect((await http(world, 'PUT', up.url, original, uploadHeaders('image/png', sha256(original)))).status).toBe(200);
    expect(await world.blobs.stat(up.objectKey)).toEqual({ sizeBytes: 5, contentType: 'image/png', sha256: sha256(original) });

    const media = { objectKey: up.objectKey, contentType: 'image/png', sizeBytes: 5 };
    await alice.requestOk({ type: 'send', conversationId: DM, clientMessageId: 'once', body: b64('k'), media }, 'sent');
    // After the send the URL is still valid, but nothing replaces the object: not even the same bytes.
    expect((await http(world, 'PUT', up.url, original, uploadHeaders('image/png', sha256(original)))).status).toBe(412);
    expect((await http(world, 'PUT', up.url, other, uploadHeaders('image/png', sha256(original)))).status).toBe(412);
    const down = await bob.requestOk({ type: 'media_download', conversationId: DM, objectKey: up.objectKey }, 'media_url');
    expect((await http(world, 'GET', down.url)).body.equals(original)).toBe(true);
  });
});

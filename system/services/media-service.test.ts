import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { directConversationId } from '../core/ids.js';
import { b64, connectDevice, createTestWorld, settle, type TestWorld } from '../testing/in-process-client.js';

const DM = directConversationId('alice', 'bob');

/** Plays an HTTP client against the embedded media store's handler (no socket). */
function http(world: TestWorld, method: 'PUT' | 'GET', url: string, body?: Buffer, contentType?: string): Promise<{ status: number; body: Buffer }> {
  const parsed = new URL(url);
  const req = Readable.from(body ? [body] : []) as unknown as IncomingMessage;
  Object.assign(req, { url: parsed.pathname + parsed.search, method, headers: contentType ? { 'content-type': contentType } : {} });
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
    const signed = await alice.requestOk({ type: 'media_upload', conversationId: DM, sizeBytes: 1234, contentType: 'image/png' }, 'media_url');
    expect(signed.method).toBe('PUT');
    expect(signed.objectKey).toMatch(/^m\/dm:alice:bob\/[0-9a-f]{32}$/);
    expect(signed.expiresAtMs).toBe(world.clock.nowMs() + world.core.deps.limits.mediaUrlTtlMs);
  });

  it('refuses uploads above mediaBytesMax, of disallowed types, or by non-members', async () => {
    const { world, alice, mallory } = await setup({ mediaBytesMax: 1_000 });
    await alice.requestOk({ type: 'media_upload', conversationId: DM, sizeBytes: 1_000, contentType: 'image/png' }, 'media_url');
    const tooLarge = await alice.requestError({ type: 'media_upload', conversationId: DM, sizeBytes: 1_001, contentType: 'image/png' });
    expect(tooLarge).toMatchObject({ code: 'MEDIA_TOO_LARGE', inReplyTo: 'media_upload', retryable: false });
    const badType = await alice.requestError({ type: 'media_upload', conversationId: DM, sizeBytes: 10, contentType: 'text/html' });
    expect(badType.code).toBe('MEDIA_TYPE_NOT_ALLOWED');
    const stranger = await mallory.requestError({ type: 'media_upload', conversationId: DM, sizeBytes: 10, contentType: 'image/png' });
    expect(stranger.code).toBe('NOT_A_MEMBER');
    const { conversationId: group } = await alice.requestOk({ type: 'group_create', name: 'g', members: ['bob'] }, 'group_result');
    expect((await mallory.requestError({ type: 'media_upload', conversationId: group, sizeBytes: 10, contentType: 'image/png' })).code).toBe('NOT_A_MEMBER');
    expect(world.stores.messages.allEvents().next().value?.kind).toBe('membership');
  });

  it('a send with a media ref that was never uploaded is MEDIA_NOT_FOUND and stores nothing', async () => {
    const { world, alice, bob } = await setup();
    const signed = await alice.requestOk({ type: 'media_upload', conversationId: DM, sizeBytes: 5, contentType: 'image/png' }, 'media_url');
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
    const up = await alice.requestOk({ type: 'media_upload', conversationId: DM, sizeBytes: bytes.length, contentType: 'image/jpeg' }, 'media_url');
    expect((await http(world, 'PUT', up.url, bytes, 'image/jpeg')).status).toBe(200);

    const media = { objectKey: up.objectKey, contentType: 'image/jpeg', sizeBytes: bytes.length };
    // The size must match what was stored.
    const wrongSize = await alice.requestError({ type: 'send', conversationId: DM, clientMessageId: 'p0', body: b64('k'), media: { ...media, sizeBytes: 3 } });
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
    expect((await mallory.requestError({ type: 'media_download', conversationId: malloryDm, objectKey: up.objectKey })).code).toBe('MEDIA_NOT_FOUND');
    const stolen = await alice.requestError({ type: 'send', conversationId: malloryDm, clientMessageId: 'p2', body: b64('k'), media });
    expect(stolen.code).toBe('MEDIA_NOT_FOUND');
    expect(await world.stores.messages.lastSeq(malloryDm)).toBe(0);
  });
});

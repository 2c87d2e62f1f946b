import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { downloadMedia, sha256Base64, uploadMedia, type FetchLike } from './media.js';
import { connected } from './testing/harness.js';

const GROUP = 'grp:0123456789abcdef';

function fakeFetch(status: number, body = new Uint8Array()) {
  const calls: Array<{ url: string; method: string; headers?: Record<string, string>; body?: Uint8Array }> = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, ...init });
    return { ok: status >= 200 && status < 300, status, arrayBuffer: async () => body.slice().buffer };
  };
  return { fetch, calls };
}

describe('media', () => {
  it('uploads through the signed URL and returns the MediaRef to send', async () => {
    const t = await connected();
    const http = fakeFetch(200);
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const uploading = uploadMedia(t.client, GROUP, bytes, 'image/png', { fetch: http.fetch });
    await waitForFrame(t, 'media_upload');
    const frame = t.conn.lastOfType('media_upload')!;
    const checksum = createHash('sha256').update(bytes).digest('base64');
    expect(frame).toEqual({
      type: 'media_upload',
      rid: expect.any(String),
      conversationId: GROUP,
      sizeBytes: 4,
      contentType: 'image/png',
      sha256: checksum,
    });
    t.conn.push({ type: 'media_url', rid: frame.rid, objectKey: `m/${GROUP}/abc`, url: 'http://store/put', method: 'PUT', expiresAtMs: 0 });
    await expect(uploading).resolves.toEqual({ objectKey: `m/${GROUP}/abc`, contentType: 'image/png', sizeBytes: 4 });
    // The PUT carries the declared checksum and the write-once condition the URL was signed with.
    expect(http.calls).toEqual([
      {
        url: 'http://store/put',
        method: 'PUT',
        headers: { 'Content-Type': 'image/png', 'x-amz-checksum-sha256': checksum, 'If-None-Match': '*' },
        body: bytes,
      },
    ]);
    t.client.close();
  });

  it('downloads through the signed URL', async () => {
    const t = await connected();
    const http = fakeFetch(200, new Uint8Array([9, 8, 7]));
    const downloading = downloadMedia(t.client, GROUP, `m/${GROUP}/abc`, { fetch: http.fetch });
    const frame = t.conn.lastOfType('media_download')!;
    t.conn.push({ type: 'media_url', rid: frame.rid, objectKey: `m/${GROUP}/abc`, url: 'http://store/get', method: 'GET', expiresAtMs: 0 });
    expect([...(await downloading)]).toEqual([9, 8, 7]);
    expect(http.calls[0]).toMatchObject({ url: 'http://store/get', method: 'GET' });
    t.client.close();
  });

  it('turns an HTTP failure into HTTP_ERROR', async () => {
    const t = await connected();
    const http = fakeFetch(503);
    const uploading = uploadMedia(t.client, GROUP, new Uint8Array([1]), 'image/png', { fetch: http.fetch });
    await waitForFrame(t, 'media_upload');
    t.conn.push({
      type: 'media_url',
      rid: t.conn.lastOfType('media_upload')!.rid,
      objectKey: `m/${GROUP}/x`,
      url: 'http://s',
      method: 'PUT',
      expiresAtMs: 0,
    });
    await expect(uploading).rejects.toMatchObject({ code: 'HTTP_ERROR', retryable: true });
    t.client.close();
  });

  it('a 400 (BadDigest: the bytes are not the checksummed ones) is HTTP_ERROR, not retryable', async () => {
    const t = await connected();
    const http = fakeFetch(400);
    const uploading = uploadMedia(t.client, GROUP, new Uint8Array([1]), 'image/png', { fetch: http.fetch });
    await waitForFrame(t, 'media_upload');
    t.conn.push({
      type: 'media_url',
      rid: t.conn.lastOfType('media_upload')!.rid,
      objectKey: `m/${GROUP}/x`,
      url: 'http://s',
      method: 'PUT',
      expiresAtMs: 0,
    });
    await expect(uploading).rejects.toMatchObject({ code: 'HTTP_ERROR', retryable: false });
    t.client.close();
  });

  it('a 412 (already stored through this content-bound URL) means the bytes are there: the upload is done', async () => {
    const t = await connected();
    const http = fakeFetch(412);
    const uploading = uploadMedia(t.client, GROUP, new Uint8Array([5, 6]), 'image/png', { fetch: http.fetch });
    await waitForFrame(t, 'media_upload');
    t.conn.push({
      type: 'media_url',
      rid: t.conn.lastOfType('media_upload')!.rid,
      objectKey: `m/${GROUP}/y`,
      url: 'http://s',
      method: 'PUT',
      expiresAtMs: 0,
    });
    await expect(uploading).resolves.toEqual({ objectKey: `m/${GROUP}/y`, contentType: 'image/png', sizeBytes: 2 });
    t.client.close();
  });

  it('sha256Base64 is the base64 SHA-256 of the bytes (the form of x-amz-checksum-sha256)', async () => {
    const bytes = new Uint8Array(Array.from({ length: 1000 }, (_, i) => i % 251));
    expect(await sha256Base64(bytes)).toBe(createHash('sha256').update(bytes).digest('base64'));
    expect(await sha256Base64(new Uint8Array())).toBe('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    // A view into a larger buffer hashes its own bytes only.
    expect(await sha256Base64(bytes.subarray(10, 20))).toBe(createHash('sha256').update(bytes.subarray(10, 20)).digest('base64'));
  });
});

/** The checksum is computed before the frame goes out (WebCrypto answers asynchronously). */
async function waitForFrame(t: Awaited<ReturnType<typeof connected>>, type: string): Promise<void> {
  for (let i = 0; i < 100 && !t.conn.lastOfType(type); i++) await new Promise((resolve) => setTimeout(resolve, 1));
  expect(t.conn.lastOfType(type), `no ${type} frame was sent`).toBeDefined();
}

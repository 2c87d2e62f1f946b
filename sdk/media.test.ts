import { describe, expect, it } from 'vitest';
import { downloadMedia, uploadMedia, type FetchLike } from './media.js';
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
    const frame = t.conn.lastOfType('media_upload')!;
    expect(frame).toEqual({ type: 'media_upload', rid: expect.any(String), conversationId: GROUP, sizeBytes: 4, contentType: 'image/png' });
    t.conn.push({ type: 'media_url', rid: frame.rid, objectKey: `m/${GROUP}/abc`, url: 'http://store/put', method: 'PUT', expiresAtMs: 0 });
    await expect(uploading).resolves.toEqual({ objectKey: `m/${GROUP}/abc`, contentType: 'image/png', sizeBytes: 4 });
    expect(http.calls).toEqual([{ url: 'http://store/put', method: 'PUT', headers: { 'Content-Type': 'image/png' }, body: bytes }]);
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
    t.conn.push({ type: 'media_url', rid: t.conn.lastOfType('media_upload')!.rid, objectKey: `m/${GROUP}/x`, url: 'http://s', method: 'PUT', expiresAtMs: 0 });
    await expect(uploading).rejects.toMatchObject({ code: 'HTTP_ERROR', retryable: true });
    t.client.close();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultLimits } from '../core/limits.js';
import { startEmbeddedServer, type EmbeddedServer } from '../worlds/embedded-server.js';
import { parseDevTokenRequest } from './dev-token-request.js';

/*
 * POST /dev/token answers every bad request with its documented 400: a body over 4 KiB is
 * answered (it used to drop the connection), and a lifetime that is not a whole number of ms
 * from 1 to tokenTtlMsMax is refused (it used to become 24 h, or a token that never expires).
 */

describe('dev token request', () => {
  const limits = { tokenTtlMsMax: defaultLimits.tokenTtlMsMax };

  it('takes the ids and an optional lifetime', () => {
    expect(parseDevTokenRequest('{"userId":"alice","deviceId":"phone"}', limits)).toEqual({ userId: 'alice', deviceId: 'phone' });
    expect(parseDevTokenRequest('{"userId":"alice","deviceId":"phone","ttlMs":60000}', limits)).toEqual({
      userId: 'alice',
      deviceId: 'phone',
      ttlMs: 60_000,
    });
    expect(parseDevTokenRequest(`{"userId":"a","deviceId":"p","ttlMs":${limits.tokenTtlMsMax}}`, limits).ttlMs).toBe(limits.tokenTtlMsMax);
  });

  it.each(['-5', '0', '"9"', '1e308', '1.5', 'null', String(defaultLimits.tokenTtlMsMax + 1)])(
    'refuses ttlMs %s with INVALID_FIELD',
    (ttl) => {
      expect(() => parseDevTokenRequest(`{"userId":"alice","deviceId":"phone","ttlMs":${ttl}}`, limits)).toThrow(
        expect.objectContaining({ code: 'INVALID_FIELD', message: expect.stringContaining('tokenTtlMsMax') }),
      );
    },
  );

  it.each(['not json', 'null', '[1]', '"text"'])('refuses a body that is not a JSON object (%s) with BAD_FRAME', (text) => {
    expect(() => parseDevTokenRequest(text, limits)).toThrow(expect.objectContaining({ code: 'BAD_FRAME' }));
  });
});

describe('POST /dev/token', () => {
  let server: EmbeddedServer;
  beforeAll(async () => {
    server = await startEmbeddedServer({ prometheus: false });
  });
  afterAll(() => server.close());

  const post = (body: string) =>
    fetch(`${server.httpUrl}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('answers a body over 4096 bytes with 400 BAD_FRAME instead of dropping the connection', async () => {
    const response = await post(JSON.stringify({ userId: 'alice', deviceId: 'phone', padding: 'x'.repeat(5000) }));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'BAD_FRAME', message: expect.stringContaining('4096') });
  });

  it('answers invalid lifetimes with 400 INVALID_FIELD and issues valid ones as asked', async () => {
    for (const ttlMs of [-5, 0, '9', 1e308]) {
      const response = await post(JSON.stringify({ userId: 'alice', deviceId: 'phone', ttlMs }));
      expect(response.status, String(ttlMs)).toBe(400);
      expect(await response.json()).toMatchObject({ code: 'INVALID_FIELD' });
    }
    const before = Date.now();
    const response = await post(JSON.stringify({ userId: 'alice', deviceId: 'phone', ttlMs: 60_000 }));
    expect(response.status).toBe(200);
    const { expiresAtMs } = (await response.json()) as { expiresAtMs: number };
    expect(expiresAtMs).toBeGreaterThanOrEqual(before + 60_000);
    expect(expiresAtMs).toBeLessThan(Date.now() + 60_000 + 1_000);
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { uploadHeaders, type BlobStore } from '../blob-store.js';
import { patternBytes, uniqueGroupId, uniqueHex, useSubject, type Disposable, type TimeControl } from './support.js';

export interface BlobStoreSubject extends Disposable, TimeControl {
  store: BlobStore;
  /** The clock signed URLs' expiry is judged by (expiresAtMs is computed from it). */
  nowMs(): number;
  /** Lifetime of the URLs in the expiry tests; keep it small for real services (default 1000). */
  urlTtlMs?: number;
  /**
   * Extra time past the expiry before the URL must be refused (default urlTtlMs): S3 signs
   * expiry in whole seconds from a timestamp truncated to the second.
   */
  expiryGraceMs?: number;
}

type Outcome = { status: number; bytes: Buffer; contentType: string | null } | { status: 'network-error'; error: unknown };

/** fetch that reads the whole answer and reports a dropped connection instead of throwing. */
async function request(url: string, init: RequestInit = {}): Promise<Outcome> {
  try {
    const response = await fetch(url, init);
    const bytes = Buffer.from(await response.arrayBuffer());
    return { status: response.status, bytes, contentType: response.headers.get('content-type') };
  } catch (error) {
    return { status: 'network-error', error };
  }
}

function put(
  url: string,
  body: Uint8Array,
  contentType: string,
  headers: Record<string, string> = { 'content-type': contentType },
): Promise<Outcome> {
  // A fresh ArrayBuffer-backed copy: fetch's BodyInit does not take views of shared buffers.
  return request(url, { method: 'PUT', body: new Uint8Array(body), headers });
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

/** Refused: an error status, or the server dropping the connection (e.g. mid oversized upload). */
function expectRefused(outcome: Outcome): void {
  if (outcome.status === 'network-error') return;
  expect(
    outcome.status,
    `expected a refusal, got ${outcome.status}: ${outcome.bytes.toString('utf8').slice(0, 200)}`,
  ).toBeGreaterThanOrEqual(400);
}

function expectAccepted(outcome: Outcome): void {
  const detail = outcome.status === 'network-error' ? String(outcome.error) : outcome.bytes.toString('utf8').slice(0, 200);
  expect(outcome.status, `expected success: ${detail}`).toBeTypeOf('number');
  expect(outcome.status as number).toBeGreaterThanOrEqual(200);
  expect(outcome.status as number).toBeLessThan(300);
}

/** The same URL aimed at another key of the same length and prefix (a tampered path). */
function retarget(url: string, fromKey: string, toKey: string): string {
  const fromTail = fromKey.slice(fromKey.lastIndexOf('/') + 1);
  const toTail = toKey.slice(toKey.lastIndexOf('/') + 1);
  const parsed = new URL(url);
  expect(parsed.pathname.endsWith(fromTail)).toBe(true);
  parsed.pathname = parsed.pathname.slice(0, -fromTail.length) + toTail;
  return parsed.toString();
}

/**
 * The BlobStore contract, through the signed URLs themselves (global fetch): an upload URL takes
 * exactly the signed size and type until it expires, a download URL serves the bytes, and a URL
 * is good for its own key and method only. A content-bound upload URL (with `sha256`, as the media
 * service always signs them) takes only the bytes of that checksum, with the headers
 * `uploadHeaders` names, and only while nothing is stored under the key: a stored object never
 * changes.
 */
export function blobStoreContract(name: string, make: () => Promise<BlobStoreSubject>): void {
  describe(name, () => {
    const subject = useSubject(make);
    const store = () => subject().store;
    const ttl = () => subject().urlTtlMs ?? 1000;
    const grace = () => subject().expiryGraceMs ?? ttl();
    const longExpiry = () => subject().nowMs() + 10 * 60_000;
    const type = 'image/jpeg';

    /** Keys as the media service makes them: m/<conversation>/<hex>; siblings differ only at the end. */
    function keys() {
      const prefix = `m/${uniqueGroupId()}/`;
      const tail = uniqueHex();
      return { a: `${prefix}${tail}0a`, b: `${prefix}${tail}0b`, c: `${prefix}${tail}0c` };
    }

    async function upload(key: string, bytes: Buffer, contentType = type): Promise<void> {
      const url = await store().signUpload(key, { sizeBytes: bytes.length, contentType }, longExpiry());
      expectAccepted(await put(url, bytes, contentType));
    }

    it('stat is undefined before anything is uploaded', async () => {
      expect(await store().stat(keys().a)).toBeUndefined();
    });

    it('an upload URL takes a PUT of exactly the signed size and type; stat then reports them', async () => {
      const { a } = keys();
      const bytes = patternBytes(3000, 1);
      const url = await store().signUpload(a, { sizeBytes: bytes.length, contentType: 'video/mp4' }, longExpiry());
      expect(await store().stat(a)).toBeUndefined();
      expectAccepted(await put(url, bytes, 'video/mp4'));
      expect(await store().stat(a)).toEqual({ sizeBytes: 3000, contentType: 'video/mp4' });
    });

    it('a download URL serves exactly the uploaded bytes', async () => {
      const { a } = keys();
      const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), patternBytes(70_000, 2)]);
      await upload(a, bytes);
      const outcome = await request(await store().signDownload(a, longExpiry()));
      expectAccepted(outcome);
      if (outcome.status === 'network-error') return;
      expect(outcome.bytes.equals(bytes)).toBe(true);
      expect(outcome.contentType).toBe(type);
    });

    it('objects are independent', async () => {
      const { a, b } = keys();
      await upload(a, patternBytes(10, 3), 'image/png');
      await upload(b, patternBytes(20, 4), 'image/jpeg');
      expect(await store().stat(a)).toEqual({ sizeBytes: 10, contentType: 'image/png' });
      expect(await store().stat(b)).toEqual({ sizeBytes: 20, contentType: 'image/jpeg' });
      const outcome = await request(await store().signDownload(a, longExpiry()));
      expect(outcome.status !== 'network-error' && outcome.bytes.equals(patternBytes(10, 3))).toBe(true);
    });

    it('a body smaller or larger than the signed size is refused', async () => {
      const { a, b } = keys();
      const smaller = await store().signUpload(a, { sizeBytes: 1000, contentType: type }, longExpiry());
      expectRefused(await put(smaller, patternBytes(999), type));
      const larger = await store().signUpload(b, { sizeBytes: 1000, contentType: type }, longExpiry());
      expectRefused(await put(larger, patternBytes(4096), type));
      expect(await store().stat(a)).toBeUndefined();
      expect(await store().stat(b)).toBeUndefined();
    });

    it('another content type than the signed one is refused', async () => {
      const { a } = keys();
      const url = await store().signUpload(a, { sizeBytes: 100, contentType: 'image/jpeg' }, longExpiry());
      expectRefused(await put(url, patternBytes(100), 'image/png'));
      expect(await store().stat(a)).toBeUndefined();
    });

    it('an upload URL for one key cannot upload under another (tampered path)', async () => {
      const { a, b } = keys();
      const bytes = patternBytes(64);
      const url = await store().signUpload(a, { sizeBytes: bytes.length, contentType: type }, longExpiry());
      expectRefused(await put(retarget(url, a, b), bytes, type));
      expect(await store().stat(b)).toBeUndefined();
      expect(await store().stat(a)).toBeUndefined();
    });

    it('a download URL for one key cannot download another (tampered path)', async () => {
      const { a, b } = keys();
      await upload(a, patternBytes(32, 5));
      await upload(b, patternBytes(32, 6));
      const url = await store().signDownload(a, longExpiry());
      expectRefused(await request(retarget(url, a, b)));
    });

    it('a URL is good for its own method only', async () => {
      const { a, c } = keys();
      const bytes = patternBytes(50);
      await upload(a, bytes);
      const download = await store().signDownload(c, longExpiry());
      expectRefused(await put(download, bytes, type));
      expect(await store().stat(c)).toBeUndefined();
      const uploadUrl = await store().signUpload(a, { sizeBytes: bytes.length, contentType: type }, longExpiry());
      expectRefused(await request(uploadUrl));
    });

    describe('content-bound, write-once upload URLs', () => {
      /** A URL bound to these bytes, and the headers its PUT must carry. */
      async function bound(key: string, bytes: Buffer, contentType = type) {
        const terms = { sizeBytes: bytes.length, contentType, sha256: sha256(bytes) };
        return { url: await store().signUpload(key, terms, longExpiry()), headers: uploadHeaders(terms) };
      }

      it('takes the declared bytes with the declared headers; stat reports the verified checksum', async () => {
        const { a } = keys();
        const bytes = patternBytes(5000, 30);
        const { url, headers } = await bound(a, bytes, 'video/mp4');
        expectAccepted(await put(url, bytes, 'video/mp4', headers));
        expect(await store().stat(a)).toEqual({ sizeBytes: 5000, contentType: 'video/mp4', sha256: sha256(bytes) });
        const outcome = await request(await store().signDownload(a, longExpiry()));
        expect(outcome.status !== 'network-error' && outcome.bytes.equals(bytes)).toBe(true);
      });

      it('other bytes of the same size are refused, whichever checksum the PUT claims; nothing is stored', async () => {
        const { a } = keys();
        const declared = patternBytes(4096, 31);
        const other = Buffer.from(declared);
        other[100] = other[100]! ^ 0xff;
        const { url, headers } = await bound(a, declared);
        expectRefused(await put(url, other, type, headers));
        expectRefused(await put(url, other, type, uploadHeaders({ contentType: type, sha256: sha256(other) })));
        expect(await store().stat(a)).toBeUndefined();
        expectAccepted(await put(url, declared, type, headers)); // the URL still takes the declared bytes
      });

      it('a PUT without the checksum or the If-None-Match header is refused', async () => {
        const { a } = keys();
        const bytes = patternBytes(300, 32);
        const { url, headers } = await bound(a, bytes);
        expectRefused(await put(url, bytes, type, { 'content-type': type }));
        const { 'if-none-match': _condition, ...withoutCondition } = headers;
        expectRefused(await put(url, bytes, type, withoutCondition));
        const { 'x-amz-checksum-sha256': _checksum, ...withoutChecksum } = headers;
        expectRefused(await put(url, bytes, type, withoutChecksum));
        expect(await store().stat(a)).toBeUndefined();
      });

      it('is write-once: once an object is stored, its URL takes nothing more, and the first bytes stay', async () => {
        const { a } = keys();
        const first = patternBytes(2048, 33);
        const second = patternBytes(2048, 34);
        const { url, headers } = await bound(a, first);
        expectAccepted(await put(url, first, type, headers));
        const again = await put(url, first, type, headers);
        expectRefused(again);
        if (again.status !== 'network-error') expect(again.status).toBe(412);
        expectRefused(await put(url, second, type, headers));
        expectRefused(await put(url, second, type, uploadHeaders({ contentType: type, sha256: sha256(second) })));
        // A second URL for the same key (the media service never signs one) cannot replace it either.
        const other = await bound(a, second);
        const replaced = await put(other.url, second, type, other.headers);
        expectRefused(replaced);
        if (replaced.status !== 'network-error') expect(replaced.status).toBe(412);
        expect(await store().stat(a)).toEqual({ sizeBytes: 2048, contentType: type, sha256: sha256(first) });
        const outcome = await request(await store().signDownload(a, longExpiry()));
        expect(outcome.status !== 'network-error' && outcome.bytes.equals(first)).toBe(true);
      });

      it('of two concurrent PUTs of one URL, one stores and the other is refused', async () => {
        const { a } = keys();
        const bytes = patternBytes(64 * 1024, 35);
        const { url, headers } = await bound(a, bytes);
        const outcomes = await Promise.all([put(url, bytes, type, headers), put(url, bytes, type, headers)]);
        const accepted = outcomes.filter((o) => o.status !== 'network-error' && o.status >= 200 && o.status < 300);
        expect(accepted).toHaveLength(1);
        expect(await store().stat(a)).toEqual({ sizeBytes: bytes.length, contentType: type, sha256: sha256(bytes) });
      });
    });

    it('expired URLs are refused', async () => {
      const { a, b } = keys();
      const bytes = patternBytes(40);
      await upload(a, bytes);
      const expiresAtMs = subject().nowMs() + ttl();
      const download = await store().signDownload(a, expiresAtMs);
      const uploadUrl = await store().signUpload(b, { sizeBytes: bytes.length, contentType: type }, expiresAtMs);
      expectAccepted(await request(download)); // good before it expires
      await subject().advance(ttl() + grace() + 1);
      expectRefused(await request(download));
      expectRefused(await put(uploadUrl, bytes, type));
      expect(await store().stat(b)).toBeUndefined();
    });
  });
}

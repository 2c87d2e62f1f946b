import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatError } from '../../core/errors.js';
import { defaultLimits } from '../../core/limits.js';
import { ManualClock } from '../virtual/manual-clock.js';
import { JwtTokenAuthority, DEVICE_CLAIM } from './jwt-token-authority.js';
import { sharedSecretTokenSettings, type KeyPairAlgorithm, type TokenSettings } from './jwt-settings.js';
import { tokenSettingsFromEnv } from './token-settings-from-env.js';

const DEVICE = { userId: 'alice', deviceId: 'phone' };
const SECRET = 'a-shared-secret-long-enough';
const START_MS = 1_767_225_600_123;

function keyPair(algorithm: KeyPairAlgorithm): { privateKey: string; publicKey: string } {
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  return algorithm === 'EdDSA'
    ? generateKeyPairSync('ed25519', { privateKeyEncoding, publicKeyEncoding })
    : generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding, publicKeyEncoding });
}

function authority(settings: TokenSettings, clock = new ManualClock(START_MS)): JwtTokenAuthority {
  return new JwtTokenAuthority(settings, clock, defaultLimits);
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; retryable: boolean }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ChatError) return { code: error.code, retryable: error.retryable };
    throw error;
  }
  throw new Error('expected a refusal');
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A key set served on loopback; `keys` is read on every request, so a test can rotate it. */
async function serveKeySet(keys: { current: object[] }): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: keys.current }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`, requests: () => requests };
}

function publicJwk(publicKeyPem: string, kid: string): object {
  return { ...createPublicKey(publicKeyPem).export({ format: 'jwk' }), kid, use: 'sig' };
}

describe('JwtTokenAuthority', () => {
  it('issues a standard JWT (sub, device_id, aud, iss, iat, exp in seconds with millisecond fractions) and reads it back', async () => {
    const tokens = authority(sharedSecretTokenSettings(SECRET));
    const { token, claims } = await tokens.issue(DEVICE, 60_000);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(decodeJwt(token)).toEqual({
      sub: 'alice',
      [DEVICE_CLAIM]: 'phone',
      aud: 'chatload-gateway',
      iss: 'chatload',
      iat: START_MS / 1000,
      exp: (START_MS + 60_000) / 1000,
    });
    expect(claims).toEqual({ ...DEVICE, issuedAtMs: START_MS, expiresAtMs: START_MS + 60_000 });
    expect(await tokens.verify(token)).toEqual(claims);
  });

  it('expires to the millisecond on the Clock port, not the machine clock', async () => {
    const clock = new ManualClock(START_MS);
    const tokens = authority(sharedSecretTokenSettings(SECRET), clock);
    const { token } = await tokens.issue(DEVICE, 1_500);
    await clock.advance(1_499);
    expect((await tokens.verify(token)).userId).toBe('alice');
    await clock.advance(1);
    expect(await refusal(tokens.verify(token))).toEqual({ code: 'TOKEN_EXPIRED', retryable: false });
  });

  it('refuses a secret shorter than the minimum at construction', () => {
    expect(() => authority(sharedSecretTokenSettings('short'))).toThrow(/at least 16 characters/);
  });

  for (const algorithm of ['EdDSA', 'RS256'] as const) {
    it(`${algorithm}: a node holding the private key issues, one holding only the public key verifies, another key pair is refused`, async () => {
      const { privateKey, publicKey } = keyPair(algorithm);
      const issuer = authority({ keys: { algorithm, privateKeyPem: privateKey }, issuer: 'idp', audience: 'chat', keyId: 'k1' });
      const verifier = authority({ keys: { algorithm, publicKeyPem: publicKey }, issuer: 'idp', audience: 'chat' });
      const { token, claims } = await issuer.issue(DEVICE, 60_000);
      expect(decodeProtectedHeader(token)).toEqual({ alg: algorithm, typ: 'JWT', kid: 'k1' });
      expect(await verifier.verify(token)).toEqual(claims);
      await expect(verifier.issue(DEVICE, 60_000)).rejects.toThrow(/only verifies/);

      const other = authority({ keys: { algorithm, privateKeyPem: keyPair(algorithm).privateKey }, issuer: 'idp', audience: 'chat' });
      expect(await refusal(verifier.verify((await other.issue(DEVICE, 60_000)).token))).toEqual({
        code: 'TOKEN_INVALID',
        retryable: false,
      });
      // An HS256 token signed with the public key as its secret (the classic algorithm confusion) is refused.
      const confused = authority(sharedSecretTokenSettings(publicKey, { issuer: 'idp', audience: 'chat' }));
      expect(await refusal(verifier.verify((await confused.issue(DEVICE, 60_000)).token))).toEqual({
        code: 'TOKEN_INVALID',
        retryable: false,
      });
    });
  }

  it('verifies against a JSON Web Key Set URL, picks the key by kid, and follows a rotation once the refetch cooldown has passed', async () => {
    const first = keyPair('EdDSA');
    const second = keyPair('EdDSA');
    const issuerOf = (privateKeyPem: string, keyId: string) =>
      authority({ keys: { algorithm: 'EdDSA', privateKeyPem }, issuer: 'idp', audience: 'chat', keyId });
    const firstToken = (await issuerOf(first.privateKey, 'k1').issue(DEVICE, 60_000)).token;
    const secondToken = (await issuerOf(second.privateKey, 'k2').issue(DEVICE, 60_000)).token;
    const cooldownMs = 100;
    const verifierOf = (url: string, refetchCooldownMs: number) =>
      new JwtTokenAuthority({ keys: { algorithm: 'EdDSA', jwksUrl: url }, issuer: 'idp', audience: 'chat' }, new ManualClock(START_MS), {
        ...defaultLimits,
        jwksRefetchCooldownMs: refetchCooldownMs,
      });

    // Default cooldown (30 s): the set is fetched once and cached; a key id it lacks is refused
    // without another fetch, however often it is presented.
    const cachedSet = { current: [publicJwk(first.publicKey, 'k1')] };
    const cached = await serveKeySet(cachedSet);
    const cachedVerifier = verifierOf(cached.url, defaultLimits.jwksRefetchCooldownMs);
    expect((await cachedVerifier.verify(firstToken)).deviceId).toBe('phone');
    expect((await cachedVerifier.verify(firstToken)).deviceId).toBe('phone');
    cachedSet.current = [publicJwk(first.publicKey, 'k1'), publicJwk(second.publicKey, 'k2')];
    for (let i = 0; i < 3; i++)
      expect(await refusal(cachedVerifier.verify(secondToken))).toEqual({ code: 'TOKEN_INVALID', retryable: false });
    expect(cached.requests()).toBe(1);

    // Once the cooldown has passed, a token naming the new key makes the verifier fetch the set again.
    const rotatingSet = { current: [publicJwk(first.publicKey, 'k1')] };
    const rotating = await serveKeySet(rotatingSet);
    const rotatingVerifier = verifierOf(rotating.url, cooldownMs);
    expect((await rotatingVerifier.verify(firstToken)).deviceId).toBe('phone');
    rotatingSet.current = [publicJwk(first.publicKey, 'k1'), publicJwk(second.publicKey, 'k2')];
    await new Promise((resolve) => setTimeout(resolve, cooldownMs * 1.5));
    expect((await rotatingVerifier.verify(secondToken)).deviceId).toBe('phone');
    expect((await rotatingVerifier.verify(firstToken)).deviceId).toBe('phone');
    expect(rotating.requests()).toBe(2);
  });

  it('a key set URL answering with something that is not a key set is AUTH_UNAVAILABLE (retryable)', async () => {
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>'));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { privateKey } = keyPair('EdDSA');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    const token = (
      await authority({ keys: { algorithm: 'EdDSA', privateKeyPem: privateKey }, issuer: 'idp', audience: 'chat', keyId: 'k1' }).issue(
        DEVICE,
        60_000,
      )
    ).token;
    const verifier = authority({ keys: { algorithm: 'EdDSA', jwksUrl: url }, issuer: 'idp', audience: 'chat' });
    expect(await refusal(verifier.verify(token))).toEqual({ code: 'AUTH_UNAVAILABLE', retryable: true });
  });
});

describe('tokenSettingsFromEnv', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-jwt-'));
  const { privateKey, publicKey } = keyPair('EdDSA');
  writeFileSync(join(dir, 'ed.key'), privateKey);
  writeFileSync(join(dir, 'ed.pub'), publicKey);
  const rsa = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  writeFileSync(join(dir, 'rsa-pkcs1.key'), rsa.privateKey);

  it('defaults to HS256 with the given development secret, and production must set one', () => {
    expect(tokenSettingsFromEnv({}, { defaultSecret: SECRET })).toEqual(sharedSecretTokenSettings(SECRET));
    expect(() => tokenSettingsFromEnv({})).toThrow(/CHAT_TOKEN_SECRET is not set/);
    expect(() => tokenSettingsFromEnv({ CHAT_TOKEN_SECRET: 'short' })).toThrow(/at least 16/);
  });

  it('reads key files, converts PKCS#1 to PKCS#8, and names the variable when a file is wrong', async () => {
    const ed = tokenSettingsFromEnv({ CHAT_TOKEN_ALG: 'EdDSA', CHAT_TOKEN_PRIVATE_KEY_FILE: join(dir, 'ed.key'), CHAT_TOKEN_KEY_ID: 'k1' });
    expect(ed.keys).toMatchObject({ algorithm: 'EdDSA' });
    expect(ed.keyId).toBe('k1');
    const rs = tokenSettingsFromEnv({ CHAT_TOKEN_ALG: 'RS256', CHAT_TOKEN_PRIVATE_KEY_FILE: join(dir, 'rsa-pkcs1.key') });
    const { token } = await authority(rs).issue(DEVICE, 60_000);
    expect((await authority(rs).verify(token)).userId).toBe('alice');

    expect(() => tokenSettingsFromEnv({ CHAT_TOKEN_ALG: 'RS256', CHAT_TOKEN_PRIVATE_KEY_FILE: join(dir, 'ed.key') })).toThrow(
      /holds a ed25519 key; CHAT_TOKEN_ALG=RS256 needs rsa/,
    );
    expect(() => tokenSettingsFromEnv({ CHAT_TOKEN_ALG: 'EdDSA', CHAT_TOKEN_PUBLIC_KEY_FILE: join(dir, 'missing.pub') })).toThrow(
      /CHAT_TOKEN_PUBLIC_KEY_FILE: cannot read/,
    );
    expect(() => tokenSettingsFromEnv({ CHAT_TOKEN_ALG: 'EdDSA', CHAT_TOKEN_PRIVATE_KEY_FILE: join(dir, 'ed.pub') })).toThrow(
      /is not a PEM private key/,
    );
  });

  it('refuses contradictory or incomplete settings with the variable to fix', () => {
    expect(() => tokenSettingsFromEnv({ CHAT_TOKEN_ALG: 'ES512' })).toThrow(/CHAT_TOKEN_ALG must be one of HS256, EdDSA, RS256/);
    expect(() => tokenSettingsFromEnv({ CHAT_TOKEN_SECRET: SECRET, CHAT_TOKEN_JWKS_URL: 'http://127.0.0.1/jwks' })).toThrow(
      /needs CHAT_TOKEN_ALG=EdDSA or RS256/,
    );
    expect(() => tokenSettingsFromEnv({ CHAT_TOKEN_ALG: 'EdDSA' })).toThrow(
      /needs CHAT_TOKEN_JWKS_URL, CHAT_TOKEN_PUBLIC_KEY_FILE or CHAT_TOKEN_PRIVATE_KEY_FILE/,
    );
    expect(() => tokenSettingsFromEnv({ CHAT_TOKEN_ALG: 'EdDSA', CHAT_TOKEN_JWKS_URL: 'ftp://idp/jwks' })).toThrow(
      /must be an http\(s\) URL/,
    );
    expect(() =>
      tokenSettingsFromEnv({
        CHAT_TOKEN_ALG: 'EdDSA',
        CHAT_TOKEN_JWKS_URL: 'http://idp/jwks',
        CHAT_TOKEN_PUBLIC_KEY_FILE: join(dir, 'ed.pub'),
      }),
    ).toThrow(/not both/);
  });
});

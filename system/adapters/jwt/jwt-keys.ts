import { createPublicKey, webcrypto } from 'node:crypto';
import { createRemoteJWKSet, errors, importPKCS8, importSPKI, type CryptoKey, type JWTVerifyGetKey } from 'jose';
import { ChatError } from '../../core/errors.js';
import type { Limits } from '../../core/limits.js';
import type { KeyPairKeys, SharedSecretKeys, TokenSettings } from './jwt-settings.js';

export type JwksLimits = Pick<Limits, 'jwksFetchTimeoutMs' | 'jwksCacheMaxAgeMs' | 'jwksRefetchCooldownMs'>;

/**
 * The keys of one TokenSettings, imported into WebCrypto once and reused: importing costs about as
 * much as a verification, and verification runs on every connect. A remote key set is cached by
 * jose (jwksCacheMaxAgeMs) and refetched at most once per jwksRefetchCooldownMs for unknown keys.
 */
export class JwtKeys {
  /** The key tokens are signed with; rejects when this node only verifies (a key pair without its private half). */
  readonly signingKey: () => Promise<CryptoKey>;
  /** Resolves the key for a token's protected header (static keys ignore the header). */
  readonly verificationKey: JWTVerifyGetKey;

  constructor(settings: TokenSettings, limits: JwksLimits) {
    const { keys } = settings;
    if (keys.algorithm === 'HS256') {
      const secretKey = once(() => importSecret(keys));
      this.signingKey = secretKey;
      this.verificationKey = secretKey;
      return;
    }
    const privateKeyPem = keys.privateKeyPem;
    this.signingKey = privateKeyPem
      ? once(() => importPKCS8(privateKeyPem, keys.algorithm))
      : () =>
          Promise.reject(
            new Error(
              `this node only verifies ${keys.algorithm} tokens: it has no private key (CHAT_TOKEN_PRIVATE_KEY_FILE) to issue them`,
            ),
          );
    this.verificationKey = keys.jwksUrl ? remoteKeySet(keys.jwksUrl, limits) : staticPublicKey(keys);
  }
}

function importSecret(keys: SharedSecretKeys): Promise<CryptoKey> {
  const bytes = new TextEncoder().encode(keys.secret);
  return webcrypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']) as Promise<CryptoKey>;
}

function staticPublicKey(keys: KeyPairKeys): JWTVerifyGetKey {
  const pem =
    keys.publicKeyPem ?? (keys.privateKeyPem && createPublicKey(keys.privateKeyPem).export({ type: 'spki', format: 'pem' }).toString());
  if (!pem) throw new Error(`${keys.algorithm} tokens need a public key, a private key to derive it from, or a key set URL`);
  return once(() => importSPKI(pem, keys.algorithm));
}

/** The first call's promise, for every call: the import runs once, and only when first needed. */
function once<T>(start: () => Promise<T>): () => Promise<T> {
  let started: Promise<T> | undefined;
  return () => (started ??= start());
}

/** A remote key set whose fetch failures are AUTH_UNAVAILABLE (retryable), not a verdict on the token. */
function remoteKeySet(url: string, limits: JwksLimits): JWTVerifyGetKey {
  const keySet = createRemoteJWKSet(new URL(url), {
    timeoutDuration: limits.jwksFetchTimeoutMs,
    cacheMaxAge: limits.jwksCacheMaxAgeMs,
    cooldownDuration: limits.jwksRefetchCooldownMs,
  });
  return async (header, token) => {
    try {
      return await keySet(header, token);
    } catch (error) {
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported
      )
        throw error;
      const why =
        error instanceof errors.JWKSTimeout
          ? `no answer within ${limits.jwksFetchTimeoutMs} ms`
          : error instanceof errors.JWKSInvalid
            ? 'the answer is not a key set'
            : 'the fetch failed';
      throw new ChatError('AUTH_UNAVAILABLE', `the key set that verifies tokens could not be fetched (${why}); retry later`);
    }
  };
}

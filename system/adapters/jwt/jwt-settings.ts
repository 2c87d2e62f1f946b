/**
 * How this deployment's auth tokens (JWTs) are signed and checked. HS256 with one shared secret is
 * the default; EdDSA (Ed25519) and RS256 use a key pair, and may take their verification keys from
 * a JSON Web Key Set URL instead, so that an identity provider can issue the tokens.
 */
export const tokenAlgorithms = ['HS256', 'EdDSA', 'RS256'] as const;
export type TokenAlgorithm = (typeof tokenAlgorithms)[number];
export type KeyPairAlgorithm = Exclude<TokenAlgorithm, 'HS256'>;

export const DEFAULT_TOKEN_ISSUER = 'chatload';
export const DEFAULT_TOKEN_AUDIENCE = 'chatload-gateway';
/** Shorter shared secrets are refused: they can be guessed offline from one captured token. */
export const TOKEN_SECRET_CHARS_MIN = 16;

export interface SharedSecretKeys {
  algorithm: 'HS256';
  secret: string;
}

export interface KeyPairKeys {
  algorithm: KeyPairAlgorithm;
  /** PKCS#8 PEM; without it this node only verifies (no /dev/token, no `npm run token`). */
  privateKeyPem?: string;
  /** SPKI PEM; default: derived from the private key. Ignored when jwksUrl is set. */
  publicKeyPem?: string;
  /** Verify with the key set published here (keys chosen by the token's `kid`). */
  jwksUrl?: string;
}

export interface TokenSettings {
  keys: SharedSecretKeys | KeyPairKeys;
  /** `iss` of tokens issued here, and the only issuer accepted. */
  issuer: string;
  /** `aud` of tokens issued here; a token must name it to be accepted. */
  audience: string;
  /** `kid` header of tokens issued here (lets verifiers pick the key from a key set). */
  keyId?: string;
}

/** HS256 with a shared secret and the default issuer and audience: the embedded world, tests, the simulator. */
export function sharedSecretTokenSettings(secret: string, overrides: Partial<Omit<TokenSettings, 'keys'>> = {}): TokenSettings {
  return { keys: { algorithm: 'HS256', secret }, issuer: DEFAULT_TOKEN_ISSUER, audience: DEFAULT_TOKEN_AUDIENCE, ...overrides };
}

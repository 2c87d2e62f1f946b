import type { DeviceAddress } from '../core/ids.js';

/** What a verified token proves: this user and device, issued then, valid until then. */
export interface TokenClaims extends DeviceAddress {
  issuedAtMs: number;
  expiresAtMs: number;
}

export interface IssuedToken {
  token: string;
  claims: TokenClaims;
}

/**
 * Issues and verifies auth tokens (JWTs in every world: system/adapters/jwt). Both are async:
 * signatures are checked with WebCrypto, and a remote key set may have to be fetched first.
 */
export interface TokenAuthority {
  /**
   * A token for a well-formed user and device, valid for ttlMs. Throws INVALID_FIELD for a
   * malformed id, and a plain Error when this node holds no signing key (verification only).
   */
  issue(device: DeviceAddress, ttlMs: number): Promise<IssuedToken>;
  /**
   * The claims of a token this deployment accepts. Throws ChatError TOKEN_INVALID (malformed,
   * bad signature, unknown key, wrong audience or issuer), TOKEN_EXPIRED, or AUTH_UNAVAILABLE
   * (the key set could not be fetched).
   */
  verify(token: string): Promise<TokenClaims>;
}

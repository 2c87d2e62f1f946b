import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  DEFAULT_TOKEN_AUDIENCE,
  DEFAULT_TOKEN_ISSUER,
  TOKEN_SECRET_CHARS_MIN,
  tokenAlgorithms,
  type TokenAlgorithm,
  type TokenSettings,
} from './jwt-settings.js';

/**
 * TokenSettings from the CHAT_TOKEN_* variables (README, "Production variables"). Key files are
 * read and parsed here, so a wrong path or a key of the wrong type stops start-up with a clear
 * message instead of failing every connect. Throws Error with that message.
 *
 * `defaultSecret`: the HS256 secret when CHAT_TOKEN_SECRET is unset (the embedded world's
 * development secret); production passes none and must set it.
 */
export function tokenSettingsFromEnv(env: NodeJS.ProcessEnv, options: { defaultSecret?: string } = {}): TokenSettings {
  const algorithm = (env.CHAT_TOKEN_ALG || 'HS256') as TokenAlgorithm;
  if (!tokenAlgorithms.includes(algorithm))
    throw new Error(`CHAT_TOKEN_ALG must be one of ${tokenAlgorithms.join(', ')}, got "${algorithm}"`);
  const claims = {
    issuer: env.CHAT_TOKEN_ISSUER || DEFAULT_TOKEN_ISSUER,
    audience: env.CHAT_TOKEN_AUDIENCE || DEFAULT_TOKEN_AUDIENCE,
    ...(env.CHAT_TOKEN_KEY_ID ? { keyId: env.CHAT_TOKEN_KEY_ID } : {}),
  };
  if (algorithm === 'HS256') {
    const secret = env.CHAT_TOKEN_SECRET || options.defaultSecret;
    if (!secret) throw new Error('CHAT_TOKEN_SECRET is not set (HS256 tokens need the secret shared by every gateway)');
    if (secret.length < TOKEN_SECRET_CHARS_MIN) throw new Error(`CHAT_TOKEN_SECRET must be at least ${TOKEN_SECRET_CHARS_MIN} characters`);
    for (const name of ['CHAT_TOKEN_PRIVATE_KEY_FILE', 'CHAT_TOKEN_PUBLIC_KEY_FILE', 'CHAT_TOKEN_JWKS_URL']) {
      if (env[name]) throw new Error(`${name} needs CHAT_TOKEN_ALG=EdDSA or RS256 (HS256 uses CHAT_TOKEN_SECRET)`);
    }
    return { keys: { algorithm, secret }, ...claims };
  }
  const privateKeyPem = env.CHAT_TOKEN_PRIVATE_KEY_FILE ? readKeyFile(env.CHAT_TOKEN_PRIVATE_KEY_FILE, 'private', algorithm) : undefined;
  const publicKeyPem = env.CHAT_TOKEN_PUBLIC_KEY_FILE ? readKeyFile(env.CHAT_TOKEN_PUBLIC_KEY_FILE, 'public', algorithm) : undefined;
  const jwksUrl = env.CHAT_TOKEN_JWKS_URL || undefined;
  if (jwksUrl && publicKeyPem) throw new Error('set CHAT_TOKEN_JWKS_URL or CHAT_TOKEN_PUBLIC_KEY_FILE, not both');
  if (jwksUrl && !/^https?:\/\//.test(jwksUrl)) throw new Error(`CHAT_TOKEN_JWKS_URL must be an http(s) URL, got "${jwksUrl}"`);
  if (!jwksUrl && !publicKeyPem && !privateKeyPem) {
    throw new Error(`CHAT_TOKEN_ALG=${algorithm} needs CHAT_TOKEN_JWKS_URL, CHAT_TOKEN_PUBLIC_KEY_FILE or CHAT_TOKEN_PRIVATE_KEY_FILE`);
  }
  return {
    keys: {
      algorithm,
      ...(privateKeyPem ? { privateKeyPem } : {}),
      ...(publicKeyPem ? { publicKeyPem } : {}),
      ...(jwksUrl ? { jwksUrl } : {}),
    },
    ...claims,
  };
}

/** Ed25519 for EdDSA, RSA for RS256. */
const KEY_TYPE_OF: Record<Exclude<TokenAlgorithm, 'HS256'>, string> = { EdDSA: 'ed25519', RS256: 'rsa' };

function readKeyFile(path: string, half: 'private' | 'public', algorithm: Exclude<TokenAlgorithm, 'HS256'>): string {
  const variable = half === 'private' ? 'CHAT_TOKEN_PRIVATE_KEY_FILE' : 'CHAT_TOKEN_PUBLIC_KEY_FILE';
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${variable}: cannot read ${path}: ${(error as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = half === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
  } catch (error) {
    throw new Error(`${variable}: ${path} is not a PEM ${half} key: ${(error as Error).message}`);
  }
  if (key.asymmetricKeyType !== KEY_TYPE_OF[algorithm]) {
    throw new Error(
      `${variable}: ${path} holds a ${key.asymmetricKeyType} key; CHAT_TOKEN_ALG=${algorithm} needs ${KEY_TYPE_OF[algorithm]}`,
    );
  }
  // jose imports PKCS#8 and SPKI only: other PEM forms (PKCS#1 "BEGIN RSA ...") are converted here.
  return key.export(half === 'private' ? { type: 'pkcs8', format: 'pem' } : { type: 'spki', format: 'pem' }).toString();
}

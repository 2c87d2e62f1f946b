/**
 * Issues an auth token (a JWT) offline, signed the way the server's CHAT_TOKEN_* variables say.
 *   npm run token -- --user alice --device phone [--ttl-ms 86400000]
 *   env: CHAT_TOKEN_ALG (HS256 default, EdDSA, RS256), CHAT_TOKEN_SECRET (HS256; defaults to the
 *        embedded world's development secret), CHAT_TOKEN_PRIVATE_KEY_FILE (EdDSA, RS256),
 *        CHAT_TOKEN_KEY_ID, CHAT_TOKEN_ISSUER, CHAT_TOKEN_AUDIENCE
 */
import { parseArgs } from 'node:util';
import { JwtTokenAuthority } from '../adapters/jwt/jwt-token-authority.js';
import { tokenSettingsFromEnv } from '../adapters/jwt/token-settings-from-env.js';
import { systemClock } from '../adapters/node/system-clock.js';
import { EMBEDDED_DEV_SECRET } from '../worlds/embedded-world.js';
import { defaultLimits } from '../core/limits.js';

const COULD_NOT_RUN = 3;

const { values } = parseArgs({
  options: {
    user: { type: 'string' },
    device: { type: 'string' },
    'ttl-ms': { type: 'string', default: String(defaultLimits.tokenTtlMs) },
  },
});
if (!values.user || !values.device) {
  process.stderr.write('usage: npm run token -- --user <userId> --device <deviceId> [--ttl-ms N]\n');
  process.exit(COULD_NOT_RUN);
}
try {
  const tokens = new JwtTokenAuthority(tokenSettingsFromEnv(process.env, { defaultSecret: EMBEDDED_DEV_SECRET }), systemClock, defaultLimits);
  const { token, claims } = await tokens.issue({ userId: values.user, deviceId: values.device }, Number(values['ttl-ms']));
  process.stdout.write(`${token}\n`);
  process.stderr.write(`expires ${new Date(claims.expiresAtMs).toISOString()}\n`);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(COULD_NOT_RUN);
}

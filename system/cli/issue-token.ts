/**
 * Issues a development auth token offline, with the same secret the server uses.
 *   npm run token -- --user alice --device phone [--ttl-ms 86400000]
 *   env: CHAT_TOKEN_SECRET (defaults to the embedded world's development secret)
 */
import { parseArgs } from 'node:util';
import { systemClock } from '../adapters/node/system-clock.js';
import { TokenService } from '../services/auth-tokens.js';
import { EMBEDDED_DEV_SECRET } from '../worlds/embedded-world.js';
import { defaultLimits } from '../core/limits.js';

const { values } = parseArgs({
  options: {
    user: { type: 'string' },
    device: { type: 'string' },
    'ttl-ms': { type: 'string', default: String(defaultLimits.tokenTtlMs) },
  },
});
if (!values.user || !values.device) {
  process.stderr.write('usage: npm run token -- --user <userId> --device <deviceId> [--ttl-ms N]\n');
  process.exit(3);
}
const tokens = new TokenService(process.env.CHAT_TOKEN_SECRET ?? EMBEDDED_DEV_SECRET, systemClock);
try {
  const { token, claims } = tokens.issue({ userId: values.user, deviceId: values.device }, Number(values['ttl-ms']));
  process.stdout.write(`${token}\n`);
  process.stderr.write(`expires ${new Date(claims.expiresAtMs).toISOString()}\n`);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(3);
}

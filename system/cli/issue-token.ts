/**
 * `npm run token`: issues an auth token (a JWT) offline, signed the way the server's CHAT_TOKEN_*
 * variables say. Options and variables: `npm run token -- --help`.
 */
import { ExitCodes } from '../../checker/run-summary.js';
import { defineCommand, EXIT_COULD_NOT_RUN } from '../../cli/command-spec.js';
import { runCommand } from '../../cli/run-command.js';
import { ToolError } from '../../cli/tool-error.js';
import { JwtTokenAuthority } from '../adapters/jwt/jwt-token-authority.js';
import { tokenSettingsFromEnv } from '../adapters/jwt/token-settings-from-env.js';
import { systemClock } from '../adapters/node/system-clock.js';
import { EMBEDDED_DEV_SECRET } from '../worlds/embedded-world.js';
import { defaultLimits } from '../core/limits.js';

/** Stable codes of `npm run token`'s failures (cli/README.md); each exits 3. */
const TokenErrorCodes = {
  BAD_ARGUMENTS: 'TOKEN_BAD_ARGUMENTS',
  /** The CHAT_TOKEN_* variables do not make a key that can sign. */
  CANNOT_ISSUE: 'TOKEN_CANNOT_ISSUE',
} as const;

const command = defineCommand({
  name: 'token',
  purpose: 'issues an auth token (a JWT) offline, signed as the CHAT_TOKEN_* variables say; prints it on stdout and its expiry on stderr',
  options: {
    user: { type: 'string', placeholder: 'USER_ID', description: 'the user the token is for (required)' },
    device: { type: 'string', placeholder: 'DEVICE_ID', description: 'the device the token is for (required)' },
    'ttl-ms': { type: 'number', integer: true, min: 1, default: defaultLimits.tokenTtlMs, description: 'lifetime in milliseconds' },
  },
  exitCodes: [{ code: ExitCodes.OK, meaning: 'token printed' }, EXIT_COULD_NOT_RUN],
  badArgumentsCode: TokenErrorCodes.BAD_ARGUMENTS,
  notes: [
    'Variables: CHAT_TOKEN_ALG (HS256 default, EdDSA, RS256), CHAT_TOKEN_SECRET (HS256; defaults to the embedded',
    "world's development secret), CHAT_TOKEN_PRIVATE_KEY_FILE (EdDSA, RS256), CHAT_TOKEN_KEY_ID, CHAT_TOKEN_ISSUER, CHAT_TOKEN_AUDIENCE.",
  ],
});

await runCommand(command, async ({ values }) => {
  if (!values.user || !values.device) throw new ToolError(TokenErrorCodes.BAD_ARGUMENTS, '--user and --device are required');
  try {
    const tokens = new JwtTokenAuthority(
      tokenSettingsFromEnv(process.env, { defaultSecret: EMBEDDED_DEV_SECRET }),
      systemClock,
      defaultLimits,
    );
    const { token, claims } = await tokens.issue({ userId: values.user, deviceId: values.device }, values['ttl-ms']);
    process.stdout.write(`${token}\n`);
    process.stderr.write(`expires ${new Date(claims.expiresAtMs).toISOString()}\n`);
    return ExitCodes.OK;
  } catch (error) {
    throw new ToolError(TokenErrorCodes.CANNOT_ISSUE, (error as Error).message, { cause: error });
  }
});

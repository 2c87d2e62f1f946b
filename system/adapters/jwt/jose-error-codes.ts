import { errors } from 'jose';
import { ChatError } from '../../core/errors.js';

/**
 * The stable error code of a token jose refused. Only an expired token is TOKEN_EXPIRED; every
 * other refusal (format, algorithm, signature, unknown key, audience, issuer, missing claim) is
 * TOKEN_INVALID, since the client's remedy is the same: get a new token. Anything that is not a
 * verdict on the token (a key set that could not be fetched is already a ChatError) passes through.
 */
export function chatErrorFromJose(error: unknown): unknown {
  if (error instanceof ChatError) return error;
  if (error instanceof errors.JWTExpired) return new ChatError('TOKEN_EXPIRED', 'token has expired; request a new one');
  if (error instanceof errors.JWTClaimValidationFailed) {
    const what = error.reason === 'missing' ? `has no "${error.claim}" claim` : `has the wrong "${error.claim}" claim`;
    const hint =
      error.claim === 'aud' ? ' (it was issued for another service)' : error.claim === 'iss' ? ' (another issuer signed it)' : '';
    return new ChatError('TOKEN_INVALID', `token ${what}${hint}`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new ChatError('TOKEN_INVALID', 'token signature does not verify');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new ChatError('TOKEN_INVALID', 'token was signed with a key this deployment does not know');
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new ChatError('TOKEN_INVALID', 'token is signed with an algorithm this deployment does not accept');
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) {
    return new ChatError('TOKEN_INVALID', 'token is not a well-formed signed JWT');
  }
  return error;
}

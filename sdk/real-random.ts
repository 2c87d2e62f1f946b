import { randomBytes, randomInt } from 'node:crypto';
import type { Random } from '../system/ports/random.js';

/**
 * The default randomness: the OS CSPRNG. Client message ids only need to be unique, not secret,
 * but crypto avoids the correlated sequences Math.random can give many clients started at once.
 */
export const cryptoRandom: Random = {
  nextFloat: () => randomInt(0, 2 ** 48) / 2 ** 48,
  hex: (bytes: number) => randomBytes(bytes).toString('hex'),
};

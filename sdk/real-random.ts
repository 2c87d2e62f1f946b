import { randomBytes } from 'node:crypto';
import type { Random } from '../system/ports/random.js';

/**
 * The default randomness: the OS CSPRNG. Client message ids only need to be unique, not secret,
 * but crypto avoids the correlated sequences Math.random can give many clients started at once.
 */
export const cryptoRandom: Random = {
  // 48 random bits: uniform in [0, 1). (crypto.randomInt would need a range below 2 ** 48.)
  nextFloat: () => randomBytes(6).readUIntBE(0, 6) / 2 ** 48,
  hex: (bytes: number) => randomBytes(bytes).toString('hex'),
};

import { randomBytes, randomInt } from 'node:crypto';
import type { Random } from '../../ports/random.js';

/** The live randomness: the operating system's CSPRNG (ids must not be guessable). */
export const cryptoRandom: Random = {
  nextFloat: () => randomInt(0, 2 ** 48) / 2 ** 48,
  hex: (bytes: number) => randomBytes(bytes).toString('hex'),
};

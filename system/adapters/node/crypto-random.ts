import { randomBytes } from 'node:crypto';
import type { Random } from '../../ports/random.js';

/** The live randomness: the operating system's CSPRNG (ids must not be guessable). */
export const cryptoRandom: Random = {
  // 48 random bits: uniform in [0, 1). (crypto.randomInt would need a range below 2 ** 48.)
  nextFloat: () => randomBytes(6).readUIntBE(0, 6) / 2 ** 48,
  hex: (bytes: number) => randomBytes(bytes).toString('hex'),
};

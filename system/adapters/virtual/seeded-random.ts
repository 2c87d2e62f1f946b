import type { Random } from '../../ports/random.js';

/**
 * Deterministic randomness from a 32-bit seed (mulberry32: small, fast, good enough for
 * simulation choices; not for secrets). The same seed gives the same sequence everywhere.
 */
export class SeededRandom implements Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  hex(bytes: number): string {
    let out = '';
    for (let i = 0; i < bytes; i++) out += (this.nextUint32() & 0xff).toString(16).padStart(2, '0');
    return out;
  }
}

import { SeededRandom } from './seeded-random.js';

/**
 * One seed drives every choice of a run. Each subsystem (workload, network, faults, each
 * gateway's core) draws from its own stream derived from the seed and a name, so adding a draw
 * in one subsystem does not shift the choices of another.
 */
export function streamOf(seed: number, name: string): SeededRandom {
  return new SeededRandom(mixSeed(seed, name));
}

/** FNV-1a over the name, mixed with the seed (32-bit). */
export function mixSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= Math.imul(seed >>> 16, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Randomness for core code: cryptographic in live worlds, seeded in the simulator and tests. */
export interface Random {
  /** Uniform in [0, 1). */
  nextFloat(): number;
  /** `bytes` random bytes as lowercase hex (2 characters per byte). */
  hex(bytes: number): string;
}

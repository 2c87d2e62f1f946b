import type { ShardSpec } from './types.js';

/** Stable code for bad --shard values; the CLI exits 3 on it. */
export class ShardSpecError extends Error {
  readonly code = 'LOAD_BAD_SHARD';
}

/** Parses `i/n` (0 <= i < n), the form `--shard` takes. */
export function parseShard(text: string): ShardSpec {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) throw new ShardSpecError(`--shard takes i/n (e.g. 0/4), not "${text}"`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || index >= count) throw new ShardSpecError(`--shard ${text}: need 0 <= i < n and n >= 1`);
  return { index, count };
}

export const WHOLE_RUN: ShardSpec = Object.freeze({ index: 0, count: 1 });

/**
 * Virtual users are split by index modulo the shard count: user i belongs to shard i % n. Every
 * shard builds the same full population plan from the seed, so they agree on who is where
 * without talking to each other, and each shard gets a spread of light and heavy users.
 */
export function ownsUser(shard: ShardSpec, userIndex: number): boolean {
  return userIndex % shard.count === shard.index;
}

export function shardLabel(shard: ShardSpec): string {
  return `${shard.index}/${shard.count}`;
}

/**
 * Conversations map to a fixed number of slots, and each slot to one gateway node: the owner,
 * which numbers the slot's conversations in memory. The preferred owner of a slot among the live
 * nodes is chosen by rendezvous (highest random weight) hashing, so every node computes the same
 * answer from the same node list, and a node joining or leaving moves only its share of slots.
 */

/** FNV-1a, 32 bits: stable across processes and versions (the slot of a conversation must never change). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Mixed like the rendezvous weights: FNV-1a alone puts ids that differ in their last characters (`dm:user1:user2`, …) into few slots. */
export function slotOf(conversationId: string, slotCount: number): number {
  return mix32(fnv1a32(conversationId)) % slotCount;
}

/**
 * MurmurHash3's 32-bit finalizer: spreads every input bit over the output. FNV-1a alone does not
 * (the order of two node ids' hashes, compared over the slots, is nearly always the same when
 * the ids differ in one character: `gw-1`/`gw-2`, `a`/`b`), so rendezvous weights need it.
 */
export function mix32(hash: number): number {
  let h = hash >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The live node with the highest weight for `slot` (ties broken by node id), or undefined when none is live. */
export function preferredOwner(slot: number, liveNodeIds: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const nodeId of liveNodeIds) {
    const weight = mix32(fnv1a32(`${nodeId}#${slot}`));
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && nodeId < best)) {
      best = nodeId;
      bestWeight = weight;
    }
  }
  return best;
}

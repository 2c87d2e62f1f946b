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

export function slotOf(conversationId: string, slotCount: number): number {
  return fnv1a32(conversationId) % slotCount;
}

/** The live node with the highest weight for `slot` (ties broken by node id), or undefined when none is live. */
export function preferredOwner(slot: number, liveNodeIds: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const nodeId of liveNodeIds) {
    const weight = fnv1a32(`${nodeId}#${slot}`);
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && nodeId < best)) {
      best = nodeId;
      bestWeight = weight;
    }
  }
  return best;
}

import type { Uniform } from '../../scenarios/plan/index.js';

/**
 * A set of slots with weights, supporting add, remove and weighted draws in O(log n) (a Fenwick
 * tree). The workload keeps online devices here, weighted by their user's activity, so a heavy
 * user sends more without any per-device timer.
 */
export class WeightedSlots {
  private tree: Float64Array;
  private weights: Float64Array;
  private readonly free: number[] = [];
  private used = 0;
  private total = 0;
  count = 0;

  constructor(initialCapacity = 1024) {
    const capacity = Math.max(16, initialCapacity);
    this.tree = new Float64Array(capacity + 1);
    this.weights = new Float64Array(capacity);
  }

  get totalWeight(): number {
    return this.total;
  }

  /** Returns the slot holding `weight` (> 0). */
  add(weight: number): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      if (this.used === this.weights.length) this.grow();
      slot = this.used++;
    }
    this.weights[slot] = weight;
    this.update(slot, weight);
    this.count++;
    return slot;
  }

  remove(slot: number): void {
    const weight = this.weights[slot]!;
    if (weight === 0) return;
    this.weights[slot] = 0;
    this.update(slot, -weight);
    this.free.push(slot);
    this.count--;
    if (this.count === 0) this.total = 0;
  }

  /** A slot drawn with probability weight/total; -1 when empty. */
  draw(rng: Uniform): number {
    if (this.count === 0 || this.total <= 0) return -1;
    let target = rng.nextFloat() * this.total;
    let pos = 0;
    let step = 1;
    while (step * 2 <= this.used) step *= 2;
    for (; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= this.used && this.tree[next]! <= target) {
        pos = next;
        target -= this.tree[next]!;
      }
    }
    // pos is the count of slots whose prefix sum is <= target: slot `pos` holds the draw.
    let slot = Math.min(pos, this.used - 1);
    // Rounding can land on an empty slot: walk to the nearest used one.
    while (slot > 0 && this.weights[slot] === 0) slot--;
    while (slot < this.used - 1 && this.weights[slot] === 0) slot++;
    return this.weights[slot]! > 0 ? slot : -1;
  }

  private update(slot: number, delta: number): void {
    this.total += delta;
    for (let i = slot + 1; i < this.tree.length; i += i & -i) this.tree[i]! += delta;
  }

  private grow(): void {
    const capacity = this.weights.length * 2;
    const weights = new Float64Array(capacity);
    weights.set(this.weights);
    this.weights = weights;
    this.tree = new Float64Array(capacity + 1);
    this.total = 0;
    for (let slot = 0; slot < this.used; slot++) if (weights[slot]! > 0) this.update(slot, weights[slot]!);
  }
}

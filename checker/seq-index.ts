/**
 * A map from seq to a history index, tuned for what a device sees of a conversation: mostly a
 * dense run of seqs. Stored densely (an Uint32Array over [base, base + capacity)) while that is
 * compact, and as a Map once the seqs turn out sparse (or are not small non-negative integers).
 * Iterates in ascending seq order.
 */
const DENSE_INDEX_LIMIT = 0xffff_fffe;

export class SeqIndex {
  private base = 0;
  /** history index + 1 per seq − base; 0 = absent. */
  private dense: Uint32Array | undefined;
  private sparse: Map<number, number> | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(seq: number): number | undefined {
    if (this.sparse) return this.sparse.get(seq);
    if (!this.dense) return undefined;
    const k = seq - this.base;
    if (k < 0 || k >= this.dense.length || !Number.isInteger(k)) return undefined;
    const v = this.dense[k]!;
    return v === 0 ? undefined : v - 1;
  }

  has(seq: number): boolean {
    return this.get(seq) !== undefined;
  }

  set(seq: number, index: number): void {
    // The dense array holds index + 1 in 32 bits; anything larger goes to the Map.
    if (!this.sparse && Number.isSafeInteger(seq) && seq >= 0 && index < DENSE_INDEX_LIMIT && this.fitDense(seq)) {
      const k = seq - this.base;
      if (this.dense![k] === 0) this.count += 1;
      this.dense![k] = index + 1;
      return;
    }
    if (!this.sparse) this.toSparse();
    if (!this.sparse!.has(seq)) this.count += 1;
    this.sparse!.set(seq, index);
  }

  /** The seqs present, ascending. */
  keys(): number[] {
    if (this.sparse) return [...this.sparse.keys()].sort((a, b) => a - b);
    const out: number[] = [];
    if (!this.dense) return out;
    for (let k = 0; k < this.dense.length; k++) if (this.dense[k] !== 0) out.push(k + this.base);
    return out;
  }

  /** Makes room for seq in the dense array; false when that would be too sparse. */
  private fitDense(seq: number): boolean {
    if (!this.dense) {
      this.base = seq;
      this.dense = new Uint32Array(16);
      return true;
    }
    const end = this.base + this.dense.length;
    if (seq >= this.base && seq < end) return true;
    const lo = Math.min(this.base, seq);
    const hi = Math.max(end, seq + 1);
    const span = hi - lo;
    if (span > 4 * (this.count + 1) + 1024) return false;
    const capacity = Math.max(span, Math.min(2 * this.dense.length, span + this.dense.length));
    const next = new Uint32Array(capacity);
    const newBase = seq < this.base ? Math.max(0, hi - capacity) : lo;
    next.set(this.dense, this.base - newBase);
    this.base = newBase;
    this.dense = next;
    return true;
  }

  private toSparse(): void {
    const sparse = new Map<number, number>();
    if (this.dense) {
      for (let k = 0; k < this.dense.length; k++) if (this.dense[k] !== 0) sparse.set(k + this.base, this.dense[k]! - 1);
    }
    this.sparse = sparse;
    this.dense = undefined;
  }
}

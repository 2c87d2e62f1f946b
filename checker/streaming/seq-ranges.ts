/**
 * A set of sequence numbers as sorted, disjoint, non-adjacent ranges [lo, hi] in one flat array.
 * A device that sees a conversation in order holds one range however many events it saw, so the
 * streaming checker's memory stays proportional to gaps, not to messages.
 */
export class SeqRanges {
  /** lo0, hi0, lo1, hi1, … ascending. */
  private r: number[] = [];

  get max(): number {
    return this.r.length > 0 ? this.r[this.r.length - 1]! : 0;
  }

  get rangeCount(): number {
    return this.r.length / 2;
  }

  has(seq: number): boolean {
    const r = this.r;
    // Fast path: the last range (in-order delivery).
    const n = r.length;
    if (n === 0) return false;
    if (seq >= r[n - 2]! && seq <= r[n - 1]!) return true;
    let lo = 0;
    let hi = n / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (seq < r[2 * mid]!) hi = mid - 1;
      else if (seq > r[2 * mid + 1]!) lo = mid + 1;
      else return true;
    }
    return false;
  }

  add(seq: number): void {
    const r = this.r;
    const n = r.length;
    if (n === 0) {
      r.push(seq, seq);
      return;
    }
    // Fast paths at the end.
    if (seq === r[n - 1]! + 1) {
      r[n - 1] = seq;
      return;
    }
    if (seq > r[n - 1]! + 1) {
      r.push(seq, seq);
      return;
    }
    // Find the first range whose hi >= seq - 1.
    let k = 0;
    while (k < n / 2 && r[2 * k + 1]! < seq - 1) k++;
    const lo = r[2 * k]!;
    const hi = r[2 * k + 1]!;
    if (seq >= lo && seq <= hi) return;
    if (seq === hi + 1) {
      r[2 * k + 1] = seq;
      // Merge with the next range when they now touch.
      if (2 * k + 2 < n && r[2 * k + 2]! === seq + 1) r.splice(2 * k + 1, 2);
      return;
    }
    if (seq === lo - 1) {
      r[2 * k] = seq;
      return;
    }
    r.splice(2 * k, 0, seq, seq);
  }

  /** Calls visit(from, to) for every stretch of missing seqs between the lowest and the highest. */
  forEachHole(visit: (from: number, to: number) => void): void {
    const r = this.r;
    for (let i = 2; i < r.length; i += 2) visit(r[i - 1]! + 1, r[i]! - 1);
  }

  static union(a: SeqRanges, b: SeqRanges): SeqRanges {
    const out = new SeqRanges();
    for (let i = 0; i < a.r.length; i += 2) for (let s = a.r[i]!; s <= a.r[i + 1]!; s++) out.add(s);
    for (let i = 0; i < b.r.length; i += 2) for (let s = b.r[i]!; s <= b.r[i + 1]!; s++) out.add(s);
    return out;
  }
}

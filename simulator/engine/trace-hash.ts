/**
 * A running 64-bit hash (two 32-bit FNV-1a lanes) over everything the clients observed, in order.
 * Two runs with the same seed must end with the same hash (`--check-determinism`); any
 * difference in what happened, or when, changes it.
 */
export class TraceHash {
  private a = 0x811c9dc5;
  private b = 0x9747b28c;
  count = 0;

  addString(s: string): void {
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
    this.a = a ^ 0xff;
    this.b = b ^ 0xff;
  }

  addNumber(n: number): void {
    const lo = n | 0;
    const hi = Math.floor(n / 4294967296) | 0;
    this.a = Math.imul(this.a ^ lo, 0x01000193);
    this.b = Math.imul(this.b ^ (lo ^ hi), 0x5bd1e995);
    this.a = Math.imul(this.a ^ hi, 0x01000193);
  }

  /** 16 hex digits. */
  digest(): string {
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
  }
}

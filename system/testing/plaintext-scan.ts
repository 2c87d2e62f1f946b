/**
 * Looks for plaintext markers anywhere in a value graph (stores, blob maps, log entries) or in
 * database cells: in strings, in byte arrays, and inside strings that are base64 (the stores
 * keep message bodies as base64, so a leak would hide there). Used by the confidentiality tests.
 */

const BASE64 = /^[A-Za-z0-9+/]{8,}={0,2}$/;

/** Where a marker was found, for the failure message. */
export interface PlaintextHit {
  path: string;
  marker: string;
}

export class PlaintextScanner {
  readonly hits: PlaintextHit[] = [];
  private readonly markerBytes: Buffer[];
  /** Values looked at (to show the scan covered something). */
  scanned = 0;

  constructor(private readonly markers: readonly string[]) {
    this.markerBytes = markers.map((m) => Buffer.from(m, 'utf8'));
  }

  /** Walks objects, arrays, Maps and Sets (keys too), once each. */
  scanValue(value: unknown, path = '$', seen = new Set<object>()): void {
    if (typeof value === 'string') return this.scanString(value, path);
    if (value instanceof Uint8Array) return this.scanBytes(value, path);
    if (typeof value !== 'object' || value === null) return;
    if (seen.has(value)) return;
    seen.add(value);
    if (value instanceof Map) {
      for (const [k, v] of value) {
        this.scanValue(k, `${path}<key>`, seen);
        this.scanValue(v, `${path}[${String(k).slice(0, 60)}]`, seen);
      }
      return;
    }
    if (value instanceof Set || Array.isArray(value)) {
      let i = 0;
      for (const v of value) this.scanValue(v, `${path}[${i++}]`, seen);
      return;
    }
    for (const [k, v] of Object.entries(value)) this.scanValue(v, `${path}.${k}`, seen);
  }

  scanString(text: string, path: string): void {
    this.scanned++;
    for (const marker of this.markers) if (text.includes(marker)) this.hits.push({ path, marker });
    if (BASE64.test(text)) this.scanBytes(Buffer.from(text, 'base64'), `${path}<base64>`);
  }

  scanBytes(bytes: Uint8Array, path: string): void {
    this.scanned++;
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.markerBytes.forEach((m, i) => {
      if (buffer.includes(m)) this.hits.push({ path, marker: this.markers[i]! });
    });
  }
}

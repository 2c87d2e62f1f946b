/** Message bodies are opaque bytes; on the wire they are base64. Strings are sent as UTF-8. */
export function bodyToBase64(body: Uint8Array | string): string {
  if (typeof body === 'string') return Buffer.from(body, 'utf8').toString('base64');
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64');
}

export function base64ToBytes(base64: string): Uint8Array {
  const buffer = Buffer.from(base64, 'base64');
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

export function base64ToText(base64: string): string {
  return Buffer.from(base64, 'base64').toString('utf8');
}

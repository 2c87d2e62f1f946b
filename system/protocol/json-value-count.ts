const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;

/**
 * Counts, without parsing, the separators and containers of JSON text — about one per array
 * entry or object member — and stops once the count passes `stopAbove`. Parsing is what costs:
 * 256 KiB of `[1,1,1,…]` becomes a 130,000-entry array, milliseconds of work and garbage before
 * any check can look at it. String contents are skipped with indexOf, so the long strings of
 * ordinary frames (message bodies) cost next to nothing. Malformed text is counted as far as it
 * goes; JSON.parse reports it afterwards.
 */
export function countJsonValues(text: string, stopAbove: number): number {
  let count = 0;
  let at = 0;
  while (at < text.length) {
    const code = text.charCodeAt(at);
    if (code === QUOTE) {
      const closing = closingQuote(text, at + 1);
      if (closing < 0) return count;
      at = closing + 1;
      continue;
    }
    if ((code === COMMA || code === OPEN_BRACKET || code === OPEN_BRACE) && ++count > stopAbove) return count;
    at++;
  }
  return count;
}

/** Index of the quote that ends the string starting at `from`, or -1 when it never ends. */
function closingQuote(text: string, from: number): number {
  let candidate = text.indexOf('"', from);
  while (candidate >= 0) {
    let backslashes = 0;
    while (text.charCodeAt(candidate - 1 - backslashes) === BACKSLASH) backslashes++;
    // An even run of backslashes escapes itself, not the quote.
    if (backslashes % 2 === 0) return candidate;
    candidate = text.indexOf('"', candidate + 1);
  }
  return -1;
}

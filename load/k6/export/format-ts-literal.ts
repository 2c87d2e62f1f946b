/*
 * Plain data as a TypeScript literal a person can read and edit in the exported script: keys
 * unquoted where they may be, single-quoted strings, and any object or array that fits on one line
 * kept on one line (a k6 stage reads as `{ target: 150, duration: '0s' }`).
 */

const LINE_CHARS_MAX = 100;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function keyText(key: string): string {
  return IDENTIFIER.test(key) ? key : quoted(key);
}

function quoted(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

function oneLine(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(oneLine).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return entries.length === 0 ? '{}' : `{ ${entries.map(([k, v]) => `${keyText(k)}: ${oneLine(v)}`).join(', ')} }`;
  }
  return typeof value === 'string' ? quoted(value) : String(value);
}

export function formatTsLiteral(value: unknown, indent = ''): string {
  const flat = oneLine(value);
  if (indent.length + flat.length <= LINE_CHARS_MAX || value === null || typeof value !== 'object') return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) return `[\n${value.map((v) => `${inner}${formatTsLiteral(v, inner)},`).join('\n')}\n${indent}]`;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return `{\n${entries.map(([k, v]) => `${inner}${keyText(k)}: ${formatTsLiteral(v, inner)},`).join('\n')}\n${indent}}`;
}

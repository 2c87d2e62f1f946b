/**
 * `--out NAME=VALUE`: where the driver streams its metrics while it runs (besides the files of
 * --json/--junit/--html, written at the end). One kind so far, k6's name for the same thing:
 *
 *   --out prometheus-remote-write=http://127.0.0.1:19090/api/v1/write
 */
export class OutSpecError extends Error {
  readonly code = 'LOAD_BAD_OUT';
}

export const OUT_KINDS = ['prometheus-remote-write'] as const;
export type OutKind = (typeof OUT_KINDS)[number];

export interface OutSpec {
  kind: OutKind;
  /** The endpoint samples are POSTed to. */
  url: string;
}

export function parseOutSpec(text: string): OutSpec {
  const separator = text.indexOf('=');
  const kind = separator < 0 ? text : text.slice(0, separator);
  if (!(OUT_KINDS as readonly string[]).includes(kind)) {
    throw new OutSpecError(`--out ${text}: unknown output "${kind}"; known: ${OUT_KINDS.join(', ')} (as NAME=URL)`);
  }
  const url = separator < 0 ? '' : text.slice(separator + 1);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OutSpecError(`--out ${kind} needs an http(s) URL after "=", e.g. ${kind}=http://127.0.0.1:19090/api/v1/write; got "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new OutSpecError(`--out ${kind} needs an http(s) URL, got "${url}"`);
  }
  return { kind: kind as OutKind, url };
}

/** Every `--out`, each kind at most once. */
export function parseOutSpecs(texts: readonly string[]): OutSpec[] {
  const specs = texts.map(parseOutSpec);
  const kinds = specs.map((s) => s.kind);
  const twice = kinds.find((kind, index) => kinds.indexOf(kind) !== index);
  if (twice) throw new OutSpecError(`--out ${twice} given more than once`);
  return specs;
}

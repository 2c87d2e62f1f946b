/**
 * The metric names a PromQL expression reads, found by taking out what is not a metric name:
 * string literals, label matchers `{…}`, range and subquery brackets `[…]`, grouping label lists
 * (`by (…)`, `on (…)`, …), function calls, keywords and numbers. Enough for the expressions the
 * dashboards are written with; a metric named only through `{__name__=…}` is not seen.
 */
const GROUPING = /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g;
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'atan2',
  'inf',
  'nan',
]);
/** An identifier not glued to a number or a word before it (so `1e-9` and `2m` yield nothing). */
const IDENTIFIER = /(?<![\w.:$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:]|\s*\()/g;

export function metricNamesOf(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(GROUPING, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(IDENTIFIER)) {
    const name = match[1]!;
    if (!KEYWORDS.has(name.toLowerCase())) names.add(name);
  }
  return [...names].sort();
}
